import { type FormEvent, useRef, useState } from "react"
import { type AccountType, api, newIdempotencyKey } from "../api.ts"
import { accountName, formatMoney, parseAmount } from "../format.ts"
import {
  type FormErrors,
  FormAlert,
  hasErrors,
  noErrors,
  problemToErrors,
  TextField,
  useFocusInvalid
} from "../forms.tsx"
import { useFlash } from "../Layout.tsx"
import { useNotifications } from "../notifications.tsx"
import { useResource } from "../resource.ts"
import { Link, navigate } from "../router.tsx"
import { useUser } from "../session.tsx"
import { ErrorNotice, PageHeader, Skeleton } from "../ui.tsx"

const types: ReadonlyArray<{ value: AccountType; label: string; text: string }> = [
  { value: "checking", label: "Checking", text: "For everyday payments and transfers." },
  { value: "savings", label: "Savings", text: "For money you put aside." }
]

/** Opens an account for the signed-in user, or — for an admin, with `?user=` — for someone else. */
export const OpenAccount = ({ userId }: { readonly userId: string | undefined }) => {
  const me = useUser()
  const forOther = userId !== undefined && userId !== me.id
  const owner = useResource(forOther ? `user:${userId}` : null, (signal) => api.user(userId!, signal))
  const flash = useFlash()
  const { pollNow } = useNotifications()
  const [type, setType] = useState<AccountType>("checking")
  const [deposit, setDeposit] = useState("")
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  // One key per intent: a retried submit (after a network error) cannot open two accounts.
  const [key, setKey] = useState(newIdempotencyKey)
  const form = useRef<HTMLFormElement>(null)
  const focusInvalid = useFocusInvalid(form)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (busy) return
    const amount = deposit.trim() === "" ? undefined : parseAmount(deposit)
    const found: FormErrors = { fields: { initial_deposit: amount?.ok === false ? amount.message : undefined } }
    setErrors(found)
    if (hasErrors(found)) return focusInvalid()
    setBusy(true)
    try {
      const account = await api.openAccount(
        {
          account_type: type,
          ...(forOther ? { user_id: userId } : {}),
          ...(amount?.ok ? { initial_deposit: amount.value } : {})
        },
        key
      )
      pollNow()
      const opened = `${accountName(account)} is open with ${formatMoney(account.balance, account.currency)}.`
      const to = forOther ? `/users/${userId}` : `/accounts/${account.id}`
      flash(opened, to)
      navigate(to)
    } catch (error) {
      setBusy(false)
      const found = problemToErrors(error, { labels: { account_type: "Account type", initial_deposit: "Deposit" } })
      setErrors(found)
      if (found.form !== undefined) setKey(newIdempotencyKey())
      focusInvalid()
    }
  }

  const ownerName = forOther ? (owner.data ? `${owner.data.name} (${owner.data.username})` : undefined) : undefined
  return (
    <>
      <PageHeader
        title="Open an account"
        subtitle={forOther ? (ownerName ? `For ${ownerName}` : "For another customer") : "It is ready at once."}
      />
      {forOther && owner.error !== undefined ? (
        <ErrorNotice error={owner.error} onRetry={owner.reload} />
      ) : forOther && owner.data === undefined ? (
        <Skeleton lines={4} label="Loading the customer" />
      ) : (
        <form ref={form} className="card form-card" onSubmit={submit} noValidate aria-busy={busy}>
          <FormAlert message={errors.form} />
          <fieldset className="choice-group">
            <legend>Account type</legend>
            {types.map((t) => (
              <label key={t.value} className="choice">
                <input
                  type="radio"
                  name="account_type"
                  value={t.value}
                  checked={type === t.value}
                  onChange={() => setType(t.value)}
                />
                <span>
                  <span className="choice-label">{t.label}</span>
                  <span className="choice-text">{t.text}</span>
                </span>
              </label>
            ))}
          </fieldset>
          <TextField
            label="Opening deposit"
            name="initial_deposit"
            optional
            hint="Leave empty to open with a zero balance."
            inputMode="decimal"
            autoComplete="off"
            value={deposit}
            onValue={setDeposit}
            error={errors.fields.initial_deposit}
          />
          <div className="button-row">
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? "Opening…" : "Open account"}
            </button>
            <Link to={forOther ? `/users/${userId}` : "/"} className="button button-secondary">
              Cancel
            </Link>
          </div>
        </form>
      )}
    </>
  )
}
