/** Administration: every user, one user's accounts, opening accounts and creating users for them. */
import { type FormEvent, useRef, useState } from "react"
import { api } from "../api.ts"
import { AccountList, AccountListSkeleton, totals, useAccounts } from "../accounts.tsx"
import { formatDateTime } from "../format.ts"
import { type FormErrors, FormAlert, hasErrors, noErrors, problemToErrors, useFocusInvalid } from "../forms.tsx"
import { useFlash } from "../Layout.tsx"
import { useResource } from "../resource.ts"
import { Link, navigate } from "../router.tsx"
import { useUser } from "../session.tsx"
import { Badge, ErrorNotice, Money, PageHeader, Skeleton, StaleNotice } from "../ui.tsx"
import { NotFound } from "./NotFound.tsx"
import { checkDraft, emptyDraft, toRegistration, type UserDraft, UserFields, userLabels } from "./Register.tsx"

export const usersPerPage = 20

const AdminOnly = () => <NotFound text="Only administrators can see other users." />

export const Users = ({ page }: { readonly page: number }) => {
  const me = useUser()
  const isAdmin = me.role === "admin"
  // One more than a page tells whether there is a next page.
  const users = useResource(
    isAdmin ? `users:${page}` : null,
    (signal) => api.users({ limit: usersPerPage + 1, offset: (page - 1) * usersPerPage }, signal),
    { keepPrevious: true }
  )
  if (!isAdmin) return <AdminOnly />
  const rows = users.data?.slice(0, usersPerPage)
  const hasNext = (users.data?.length ?? 0) > usersPerPage

  return (
    <>
      <PageHeader
        title="Users"
        subtitle="Everyone with a Microbank profile."
        actions={
          <Link to="/users/new" className="button button-primary">
            Create user
          </Link>
        }
      />
      <section className="card" aria-label="Users">
        {users.error !== undefined && rows === undefined ? (
          <ErrorNotice error={users.error} onRetry={users.reload} />
        ) : rows === undefined ? (
          <Skeleton lines={8} label="Loading users" />
        ) : rows.length === 0 ? (
          <p className="empty">No users on this page.</p>
        ) : (
          <div className="table-wrap">
            {users.error !== undefined ? <StaleNotice error={users.error} onRetry={users.reload} /> : null}
            <table className="users" aria-busy={users.loading}>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Username</th>
                  <th scope="col" className="email-col">
                    Email
                  </th>
                  <th scope="col">Role</th>
                  <th scope="col" className="date-col">
                    Joined
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((u) => (
                  <tr key={u.id}>
                    <td>
                      <Link to={`/users/${u.id}`}>{u.name}</Link>
                    </td>
                    <td>{u.username}</td>
                    <td className="email-col">{u.email}</td>
                    <td>{u.role === "admin" ? <Badge tone="accent">Admin</Badge> : "Customer"}</td>
                    <td className="date-col">
                      <time dateTime={u.created_at}>{formatDateTime(u.created_at)}</time>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <nav className="pager" aria-label="Pages of users">
          {page > 1 ? (
            <Link to={page === 2 ? "/users" : `/users?page=${page - 1}`} className="button button-secondary">
              ← Previous
            </Link>
          ) : (
            <span className="button button-secondary" aria-disabled="true">
              ← Previous
            </span>
          )}
          <span className="muted">Page {page}</span>
          {hasNext ? (
            <Link to={`/users?page=${page + 1}`} className="button button-secondary">
              Next →
            </Link>
          ) : (
            <span className="button button-secondary" aria-disabled="true">
              Next →
            </span>
          )}
        </nav>
      </section>
    </>
  )
}

export const UserDetail = ({ userId }: { readonly userId: string }) => {
  const me = useUser()
  const isAdmin = me.role === "admin"
  const user = useResource(isAdmin ? `user:${userId}` : null, (signal) => api.user(userId, signal))
  const accounts = useAccounts(isAdmin ? userId : null)
  if (!isAdmin) return <AdminOnly />
  const u = user.data
  const list = accounts.data

  return (
    <>
      <PageHeader
        title={u?.name ?? "User"}
        subtitle={<Link to="/users">All users</Link>}
        actions={
          u !== undefined ? (
            <Link to={`/accounts/new?user=${u.id}`} className="button button-primary">
              Open account for {u.name}
            </Link>
          ) : undefined
        }
      />
      <div className="dashboard">
        <section className="card" aria-labelledby="profile-heading">
          <h2 id="profile-heading">Profile</h2>
          {user.error !== undefined && u === undefined ? (
            <ErrorNotice error={user.error} onRetry={user.reload} />
          ) : u === undefined ? (
            <Skeleton lines={5} label="Loading the profile" />
          ) : (
            <dl className="summary">
              <div>
                <dt>Username</dt>
                <dd>{u.username}</dd>
              </div>
              <div>
                <dt>Email</dt>
                <dd>{u.email}</dd>
              </div>
              <div>
                <dt>Phone</dt>
                <dd>{u.phone ?? "—"}</dd>
              </div>
              <div>
                <dt>Role</dt>
                <dd>{u.role === "admin" ? "Administrator" : "Customer"}</dd>
              </div>
              <div>
                <dt>Joined</dt>
                <dd>{formatDateTime(u.created_at)}</dd>
              </div>
            </dl>
          )}
        </section>
        <section className="card" aria-labelledby="user-accounts-heading">
          <div className="card-heading">
            <h2 id="user-accounts-heading">Accounts</h2>
            {list !== undefined
              ? totals(list).map((t) => (
                  <span key={t.currency} className="total">
                    Total <Money amount={t.amount} currency={t.currency} />
                  </span>
                ))
              : null}
          </div>
          {accounts.error !== undefined && list === undefined ? (
            <ErrorNotice error={accounts.error} onRetry={accounts.reload} />
          ) : list === undefined ? (
            <AccountListSkeleton />
          ) : list.length === 0 ? (
            <p className="empty">No accounts yet.</p>
          ) : (
            <AccountList accounts={list} />
          )}
        </section>
      </div>
    </>
  )
}

export const NewUser = () => {
  const me = useUser()
  const flash = useFlash()
  const [draft, setDraft] = useState<UserDraft>(emptyDraft)
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const form = useRef<HTMLFormElement>(null)
  const focusInvalid = useFocusInvalid(form)
  if (me.role !== "admin") return <AdminOnly />

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (busy) return
    const found = checkDraft(draft)
    setErrors(found)
    if (hasErrors(found)) return focusInvalid()
    setBusy(true)
    try {
      const user = await api.createUser({ ...toRegistration(draft), role: draft.role })
      flash(`${user.name} can now log in as ${user.username}.`, `/users/${user.id}`)
      navigate(`/users/${user.id}`)
    } catch (error) {
      setBusy(false)
      setErrors(problemToErrors(error, { labels: userLabels }))
      focusInvalid()
    }
  }

  return (
    <>
      <PageHeader title="Create user" subtitle={<Link to="/users">All users</Link>} />
      <form ref={form} className="card form-card" onSubmit={submit} noValidate aria-busy={busy}>
        <FormAlert message={errors.form} />
        <UserFields draft={draft} set={setDraft} errors={errors} withRole />
        <div className="button-row">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? "Creating…" : "Create user"}
          </button>
          <Link to="/users" className="button button-secondary">
            Cancel
          </Link>
        </div>
      </form>
    </>
  )
}
