import { useEffect } from "react"
import { formatDateTime } from "../format.ts"
import { describeProblem } from "../forms.tsx"
import { useNotifications } from "../notifications.tsx"
import { Badge, PageHeader, Skeleton } from "../ui.tsx"

const kinds: Record<string, string> = {
  deposit: "Deposit",
  withdrawal: "Withdrawal",
  transfer_in: "Money in",
  transfer_out: "Money out",
  welcome: "Welcome"
}

export const NotificationsScreen = () => {
  const { items, error, markAllRead } = useNotifications()
  // Seeing the list reads it, including what arrives while it is open.
  useEffect(() => {
    markAllRead()
  }, [markAllRead])

  return (
    <>
      <PageHeader title="Notifications" subtitle="New ones appear here as they happen." />
      <section className="card" aria-label="Notifications">
        <p className={`live-status${error !== undefined ? " live-status-error" : ""}`} role="status">
          {error !== undefined
            ? `Live updates paused: ${describeProblem(error.problem)} Retrying…`
            : items === undefined
              ? "Connecting…"
              : "Live"}
        </p>
        {items === undefined ? (
          <Skeleton lines={5} label="Loading notifications" />
        ) : items.length === 0 ? (
          <p className="empty">No notifications yet.</p>
        ) : (
          <ol className="notification-list">
            {items.map((n) => (
              <li key={n.id}>
                <Badge tone={n.kind === "transfer_out" || n.kind === "withdrawal" ? "neutral" : "success"}>
                  {kinds[n.kind] ?? n.kind}
                </Badge>
                <span className="notification-message">{n.message}</span>
                <time dateTime={n.created_at}>{formatDateTime(n.created_at)}</time>
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  )
}
