/** A user's accounts, kept fresh: they reload whenever a notification says money moved. */
import { useEffect, useRef } from "react"
import { type Account, api } from "./api.ts"
import { accountName, formatMoney, minorToDecimal } from "./format.ts"
import { useNotifications } from "./notifications.tsx"
import { type Resource, useResource } from "./resource.ts"
import { Link } from "./router.tsx"
import { Badge, Money } from "./ui.tsx"

/** Refreshes `resource` (keeping what it shows) whenever new notifications arrive. */
export const useRefreshOnActivity = (reload: () => void): void => {
  const { activity } = useNotifications()
  const seen = useRef(activity)
  useEffect(() => {
    if (activity === seen.current) return
    seen.current = activity
    reload()
  }, [activity, reload])
}

/** The accounts of `userId` (`null`: not wanted). */
export const useAccounts = (userId: string | null): Resource<ReadonlyArray<Account>> => {
  const resource = useResource(userId === null ? null : `accounts:${userId}`, (signal) => api.accounts(userId!, signal))
  useRefreshOnActivity(resource.reload)
  return resource
}

/** Sum of the balances per currency, in integer minor units (exact). */
export const totals = (accounts: ReadonlyArray<Account>): ReadonlyArray<{ currency: string; amount: string }> => {
  const sums = new Map<string, bigint>()
  for (const a of accounts) {
    if (a.status !== "open") continue
    sums.set(a.currency, (sums.get(a.currency) ?? 0n) + BigInt(a.balance_minor))
  }
  return [...sums].map(([currency, minor]) => ({ currency, amount: minorToDecimal(minor) }))
}

/** "Checking ••••dff0 · $1,000.00", for selects. */
export const accountOption = (a: Account): string => `${accountName(a)} · ${formatMoney(a.balance, a.currency)}`

export const AccountList = ({ accounts }: { readonly accounts: ReadonlyArray<Account> }) => (
  <ul className="account-list">
    {accounts.map((a) => (
      <li key={a.id}>
        <Link to={`/accounts/${a.id}`} className={`account-card${a.status === "closed" ? " account-closed" : ""}`}>
          <span className="account-name">
            {accountName(a)}
            {a.status === "closed" ? <Badge>Closed</Badge> : null}
          </span>
          <span className="account-balance">
            <span className="visually-hidden">Balance </span>
            <Money amount={a.balance} currency={a.currency} />
          </span>
        </Link>
      </li>
    ))}
  </ul>
)

/** Same height as `<AccountList>` rows, while they load. */
export const AccountListSkeleton = ({ rows = 2 }: { readonly rows?: number }) => (
  <ul className="account-list" aria-hidden="true">
    {Array.from({ length: rows }, (_, i) => (
      <li key={i}>
        <span className="account-card account-card-skeleton">
          <span className="skeleton-line" />
          <span className="skeleton-line skeleton-short" />
        </span>
      </li>
    ))}
  </ul>
)
