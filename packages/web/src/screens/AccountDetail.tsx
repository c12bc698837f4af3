/**
 * One account: balance, number, actions, and its history a page at a time (the API's
 * `next_before` cursor; earlier cursors are kept so "Newer" goes back without refetching order).
 */
import { useState } from "react"
import { type Account, api, type Transaction } from "../api.ts"
import { useRefreshOnActivity } from "../accounts.tsx"
import { accountName, formatDate, formatTime, shortAccount } from "../format.ts"
import { errorMessage } from "../forms.tsx"
import { useFlash } from "../Layout.tsx"
import { useResource } from "../resource.ts"
import { Link } from "../router.tsx"
import { useUser } from "../session.tsx"
import { Badge, ConfirmDialog, ErrorNotice, Money, PageHeader, SignedMoney, Skeleton, StaleNotice } from "../ui.tsx"

export const pageSize = 10

const describe = (t: Transaction): string => {
  const other = t.counterparty_account_id !== null ? shortAccount(t.counterparty_account_id) : undefined
  switch (t.type) {
    case "deposit":
      return "Deposit"
    case "withdrawal":
      return "Withdrawal"
    case "transfer_in":
      return other ? `Transfer from ${other}` : "Transfer in"
    case "transfer_out":
      return other ? `Transfer to ${other}` : "Transfer out"
  }
}

const History = ({ account }: { readonly account: Account }) => {
  // cursors[i] is the `before` of page i+1; the first page has none.
  const [cursors, setCursors] = useState<ReadonlyArray<string>>([])
  const before = cursors[cursors.length - 1]
  const page = useResource(
    `history:${account.id}:${before ?? ""}`,
    (signal) => api.transactions(account.id, { limit: pageSize, before }, signal),
    { keepPrevious: true }
  )
  // New money movements show on the first page; older pages do not change.
  useRefreshOnActivity(cursors.length === 0 ? page.reload : noop)
  const items = page.data?.items
  const pageNumber = cursors.length + 1

  return (
    <section className="card" aria-labelledby="history-heading">
      <div className="card-heading">
        <h2 id="history-heading">Transactions</h2>
        <span className="muted" aria-live="polite">
          Page {pageNumber}
        </span>
      </div>
      {page.error !== undefined && items === undefined ? (
        <ErrorNotice error={page.error} onRetry={page.reload} />
      ) : items === undefined ? (
        <div className="history-placeholder">
          <Skeleton lines={pageSize} label="Loading transactions" />
        </div>
      ) : items.length === 0 && pageNumber === 1 ? (
        <p className="empty">No transactions yet.</p>
      ) : (
        <div className="table-wrap">
          {page.error !== undefined ? <StaleNotice error={page.error} onRetry={page.reload} /> : null}
          <table className="history" aria-describedby="history-heading" aria-busy={page.loading}>
            <thead>
              <tr>
                <th scope="col">Date</th>
                <th scope="col">Details</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col" className="num balance-col">
                  Balance
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((t) => (
                <tr key={t.id}>
                  <td className="date">
                    <time dateTime={t.created_at}>
                      <span>{formatDate(t.created_at)}</span> <span>{formatTime(t.created_at)}</span>
                    </time>
                  </td>
                  <td>
                    <span className="tx-type">{describe(t)}</span>
                    {t.description !== null ? <span className="tx-description">{t.description}</span> : null}
                  </td>
                  <td className="num">
                    <SignedMoney
                      amount={t.amount}
                      negative={t.type === "withdrawal" || t.type === "transfer_out"}
                      currency={account.currency}
                    />
                  </td>
                  <td className="num balance-col">
                    <Money amount={t.balance_after} currency={account.currency} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="pager">
        <button
          type="button"
          className="button button-secondary"
          disabled={cursors.length === 0 || page.loading}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          ← Newer
        </button>
        <button
          type="button"
          className="button button-secondary"
          disabled={!page.data?.next_before || page.loading}
          onClick={() => {
            const next = page.data?.next_before
            if (next) setCursors((c) => [...c, next])
          }}
        >
          Older →
        </button>
      </div>
    </section>
  )
}

const noop = () => {}

const CopyButton = ({ text }: { readonly text: string }) => {
  const [copied, setCopied] = useState(false)
  if (typeof navigator.clipboard?.writeText !== "function") return null
  return (
    <button
      type="button"
      className="link-button"
      onClick={() =>
        navigator.clipboard.writeText(text).then(
          () => {
            setCopied(true)
            window.setTimeout(() => setCopied(false), 2000)
          },
          () => setCopied(false)
        )
      }
    >
      <span aria-live="polite">{copied ? "Copied" : "Copy"}</span>
    </button>
  )
}

export const AccountDetail = ({ accountId }: { readonly accountId: string }) => {
  const me = useUser()
  const account = useResource(`account:${accountId}`, (signal) => api.account(accountId, signal))
  useRefreshOnActivity(account.reload)
  const flash = useFlash()
  const [closing, setClosing] = useState(false)
  const [closeBusy, setCloseBusy] = useState(false)
  const [closeError, setCloseError] = useState<string | undefined>(undefined)
  const a = account.data

  const close = async () => {
    if (a === undefined) return
    setCloseBusy(true)
    setCloseError(undefined)
    try {
      await api.closeAccount(a.id)
      setCloseBusy(false)
      setClosing(false)
      flash(`${accountName(a)} is closed.`, `/accounts/${a.id}`)
      account.reload()
    } catch (error) {
      setCloseBusy(false)
      setCloseError(errorMessage(error))
    }
  }

  if (a === undefined) {
    return (
      <>
        <PageHeader title="Account" />
        {account.error !== undefined ? (
          <ErrorNotice error={account.error} onRetry={account.reload} />
        ) : (
          <div className="card">
            <Skeleton lines={3} label="Loading the account" />
          </div>
        )}
      </>
    )
  }

  const isOpen = a.status === "open"
  return (
    <>
      <PageHeader
        title={accountName(a)}
        subtitle={
          <>
            {isOpen ? <Badge tone="success">Open</Badge> : <Badge>Closed</Badge>}{" "}
            {a.user_id !== me.id ? (
              <Link to={`/users/${a.user_id}`}>Owner’s profile</Link>
            ) : (
              <Link to="/">All accounts</Link>
            )}
          </>
        }
        actions={
          // An admin looking at a customer's account moves money from the customer's side, not here.
          isOpen && a.user_id === me.id ? (
            <>
              <Link to={`/deposit?account=${a.id}`} className="button button-secondary">
                Deposit
              </Link>
              <Link to={`/withdraw?account=${a.id}`} className="button button-secondary">
                Withdraw
              </Link>
              <Link to={`/transfer?account=${a.id}`} className="button button-primary">
                Transfer
              </Link>
            </>
          ) : undefined
        }
      />
      <section className="card balance-card" aria-label="Balance">
        <p className="balance-label">Balance</p>
        <p className="balance-amount">
          <Money amount={a.balance} currency={a.currency} />
        </p>
        <p className="account-number">
          Account number <code>{a.id}</code> <CopyButton text={a.id} />
        </p>
        {account.error !== undefined ? <StaleNotice error={account.error} onRetry={account.reload} /> : null}
        {isOpen ? (
          <button
            type="button"
            className="link-button danger"
            onClick={() => {
              setCloseError(undefined)
              setClosing(true)
            }}
          >
            Close account
          </button>
        ) : null}
      </section>
      <History account={a} />
      <ConfirmDialog
        open={closing}
        title={`Close ${accountName(a)}?`}
        confirmLabel="Close account"
        danger
        busy={closeBusy}
        onConfirm={close}
        onCancel={() => setClosing(false)}
      >
        <p>A closed account takes no more deposits or transfers. Its balance must be zero.</p>
        {closeError !== undefined ? (
          <p className="form-alert" role="alert">
            {closeError}
          </p>
        ) : null}
      </ConfirmDialog>
    </>
  )
}
