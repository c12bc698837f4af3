import { AccountList, AccountListSkeleton, totals, useAccounts } from "../accounts.tsx"
import { formatDateTime } from "../format.ts"
import { useNotifications } from "../notifications.tsx"
import { Link } from "../router.tsx"
import { useUser } from "../session.tsx"
import { ErrorNotice, Money, PageHeader, Skeleton, StaleNotice } from "../ui.tsx"

export const Dashboard = () => {
  const user = useUser()
  const accounts = useAccounts(user.id)
  const notifications = useNotifications()
  const list = accounts.data
  const open = list?.filter((a) => a.status === "open") ?? []

  return (
    <>
      <PageHeader
        title="Accounts"
        subtitle={`Hello, ${user.name}`}
        actions={
          <>
            <Link to="/accounts/new" className="button button-primary">
              Open account
            </Link>
            {open.length > 0 ? (
              <Link to="/transfer" className="button button-secondary">
                Move money
              </Link>
            ) : null}
          </>
        }
      />
      <div className="dashboard">
        <section className="card" aria-labelledby="accounts-heading">
          <div className="card-heading">
            <h2 id="accounts-heading">Your accounts</h2>
            <p className="total" aria-live="polite">
              {list === undefined ? (
                <span className="skeleton-line skeleton-inline" aria-hidden="true" />
              ) : (
                totals(list).map((t) => (
                  <span key={t.currency}>
                    Total <Money amount={t.amount} currency={t.currency} />
                  </span>
                ))
              )}
            </p>
          </div>
          {accounts.error !== undefined && list === undefined ? (
            <ErrorNotice error={accounts.error} onRetry={accounts.reload} />
          ) : list === undefined ? (
            <>
              <span className="visually-hidden" role="status">
                Loading your accounts…
              </span>
              <AccountListSkeleton />
            </>
          ) : list.length === 0 ? (
            <div className="empty">
              <p>You have no accounts yet.</p>
              <Link to="/accounts/new" className="button button-primary">
                Open your first account
              </Link>
            </div>
          ) : (
            <>
              {accounts.error !== undefined ? <StaleNotice error={accounts.error} onRetry={accounts.reload} /> : null}
              <AccountList accounts={list} />
            </>
          )}
        </section>
        <section className="card" aria-labelledby="activity-heading">
          <div className="card-heading">
            <h2 id="activity-heading">Recent activity</h2>
            <Link to="/notifications">All notifications</Link>
          </div>
          {notifications.items === undefined ? (
            notifications.error !== undefined ? (
              <ErrorNotice error={notifications.error} />
            ) : (
              <Skeleton lines={3} label="Loading activity" />
            )
          ) : notifications.items.length === 0 ? (
            <p className="empty">Nothing yet. Deposits, withdrawals and transfers show up here.</p>
          ) : (
            <ul className="activity">
              {notifications.items.slice(0, 5).map((n) => (
                <li key={n.id}>
                  <span>{n.message}</span>
                  <time dateTime={n.created_at}>{formatDateTime(n.created_at)}</time>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </>
  )
}
