/** Small building blocks shared by the screens. */
import { type ReactNode, useEffect, useRef } from "react"
import type { ApiError } from "./api.ts"
import { describeProblem } from "./forms.tsx"
import { formatMoney, formatSignedMoney } from "./format.ts"

/** The screen's `<h1>` (focused by the layout after navigation) and the document title. */
export const PageHeader = ({
  title,
  subtitle,
  actions
}: {
  readonly title: string
  readonly subtitle?: ReactNode
  readonly actions?: ReactNode
}) => {
  useEffect(() => {
    document.title = `${title} · Microbank`
  }, [title])
  return (
    <header className="page-header">
      <div>
        <h1 tabIndex={-1}>{title}</h1>
        {subtitle !== undefined ? <p className="subtitle">{subtitle}</p> : null}
      </div>
      {actions !== undefined ? <div className="page-actions">{actions}</div> : null}
    </header>
  )
}

/** A failed load, said plainly, with a way to try again. */
export const ErrorNotice = ({ error, onRetry }: { readonly error: ApiError; readonly onRetry?: () => void }) => (
  <div className="notice notice-error" role="alert">
    <p>{describeProblem(error.problem)}</p>
    {onRetry !== undefined ? (
      <button type="button" className="button button-secondary" onClick={onRetry}>
        Try again
      </button>
    ) : null}
  </div>
)

/** A stale-data warning when a refresh failed but older data is still shown. */
export const StaleNotice = ({ error, onRetry }: { readonly error: ApiError; readonly onRetry: () => void }) => (
  <p className="stale" role="status">
    Could not refresh: {describeProblem(error.problem)}{" "}
    <button type="button" className="link-button" onClick={onRetry}>
      Retry
    </button>
  </p>
)

/** Placeholder lines of fixed height, so content arriving does not move the page. */
export const Skeleton = ({ lines = 3, label = "Loading" }: { readonly lines?: number; readonly label?: string }) => (
  <div className="skeleton" role="status" aria-live="polite">
    <span className="visually-hidden">{label}…</span>
    {Array.from({ length: lines }, (_, i) => (
      <span key={i} className="skeleton-line" aria-hidden="true" />
    ))}
  </div>
)

export const Money = ({ amount, currency }: { readonly amount: string; readonly currency: string }) => (
  <span className="money">{formatMoney(amount, currency)}</span>
)

export const SignedMoney = ({
  amount,
  negative,
  currency
}: {
  readonly amount: string
  readonly negative: boolean
  readonly currency: string
}) => (
  <span className={`money ${negative ? "money-out" : "money-in"}`}>
    {formatSignedMoney(amount, negative, currency)}
  </span>
)

export const Badge = ({ children, tone = "neutral" }: { readonly children: ReactNode; readonly tone?: string }) => (
  <span className={`badge badge-${tone}`}>{children}</span>
)

/**
 * A modal question (native `<dialog>`: focus moves in, Escape cancels, focus returns after).
 */
export const ConfirmDialog = ({
  open,
  title,
  children,
  confirmLabel,
  busy,
  danger,
  onConfirm,
  onCancel
}: {
  readonly open: boolean
  readonly title: string
  readonly children: ReactNode
  readonly confirmLabel: string
  readonly busy?: boolean
  readonly danger?: boolean
  readonly onConfirm: () => void
  readonly onCancel: () => void
}) => {
  const ref = useRef<HTMLDialogElement>(null)
  const cancel = useRef<HTMLButtonElement>(null)
  useEffect(() => {
    const dialog = ref.current
    if (dialog === null) return
    if (open && !dialog.open) {
      dialog.showModal()
      // The safe choice takes focus (showModal would pick the first button: the dangerous one).
      cancel.current?.focus()
    }
    if (!open && dialog.open) dialog.close()
  }, [open])
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="dialog-title"
      onCancel={(e) => {
        e.preventDefault()
        if (!busy) onCancel()
      }}
    >
      <h2 id="dialog-title">{title}</h2>
      <div className="dialog-body">{children}</div>
      <div className="button-row">
        <button
          type="button"
          className={`button ${danger ? "button-danger" : "button-primary"}`}
          onClick={onConfirm}
          disabled={busy}
          aria-busy={busy}
        >
          {busy ? "Working…" : confirmLabel}
        </button>
        <button ref={cancel} type="button" className="button button-secondary" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </dialog>
  )
}
