/**
 * Deposit, withdraw and transfer: fill in → review and confirm → done. The intent gets one
 * `Idempotency-Key` when it is reviewed, so confirming again after a network failure cannot move
 * the money twice. Problems from the server land next to the field they concern.
 */
import { type FormEvent, useEffect, useRef, useState } from "react"
import { type Account, api, ApiError, newIdempotencyKey } from "../api.ts"
import { accountOption, useAccounts } from "../accounts.tsx"
import { accountName, formatMoney, parseAmount, shortAccount } from "../format.ts"
import {
  type FormErrors,
  FormAlert,
  hasErrors,
  noErrors,
  problemToErrors,
  SelectField,
  TextField,
  useFocusInvalid
} from "../forms.tsx"
import { useNotifications } from "../notifications.tsx"
import { Link, type Location } from "../router.tsx"
import { useUser } from "../session.tsx"
import { ErrorNotice, Money, PageHeader, Skeleton } from "../ui.tsx"
import { checkAccountNumber, checkDescription } from "../validation.ts"

export type MovementKind = "deposit" | "withdraw" | "transfer"

const titles: Record<MovementKind, string> = { deposit: "Deposit", withdraw: "Withdraw", transfer: "Transfer" }
const other = "other"

interface Draft {
  readonly account: string
  readonly from: string
  readonly to: string
  readonly toNumber: string
  readonly amount: string
  readonly description: string
}

interface Done {
  readonly lines: ReadonlyArray<{ readonly account: string; readonly balance: string; readonly currency: string }>
  readonly accountId: string
}

interface Review {
  readonly amount: string
  readonly source: Account
  readonly target?: Account | undefined
  readonly targetId: string
  readonly description: string | null
  readonly key: string
}

export const MoveMoney = ({ kind, search }: { readonly kind: MovementKind; readonly search: Location["search"] }) => {
  const me = useUser()
  const accounts = useAccounts(me.id)
  const { pollNow } = useNotifications()
  const open = (accounts.data ?? []).filter((a) => a.status === "open")
  const [draft, setDraft] = useState<Draft>({
    account: search.get("account") ?? "",
    from: search.get("from") ?? search.get("account") ?? "",
    to: search.get("to") ?? "",
    toNumber: "",
    amount: "",
    description: ""
  })
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [review, setReview] = useState<Review | undefined>(undefined)
  const [done, setDone] = useState<Done | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const form = useRef<HTMLFormElement>(null)
  const focusInvalid = useFocusInvalid(form)
  const stepHeading = useRef<HTMLHeadingElement>(null)

  // Choices that name no open account fall back to sensible defaults.
  const valid = (id: string) => open.some((a) => a.id === id)
  const source = kind === "transfer" ? draft.from : draft.account
  const sourceId = valid(source) ? source : (open[0]?.id ?? "")
  const sourceAccount = open.find((a) => a.id === sourceId)
  const targets = open.filter((a) => a.id !== sourceId)
  const to = draft.to === other || targets.some((a) => a.id === draft.to) ? draft.to : (targets[0]?.id ?? other)
  const currency = sourceAccount?.currency ?? "USD"

  const step = done !== undefined ? "done" : review !== undefined ? "review" : "edit"
  useEffect(() => {
    if (step !== "edit") stepHeading.current?.focus()
  }, [step])

  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }))

  const toReview = (event: FormEvent) => {
    event.preventDefault()
    const amount = parseAmount(draft.amount)
    const targetId = to === other ? draft.toNumber.trim().toLowerCase() : to
    const found: FormErrors = {
      fields: {
        account: sourceAccount === undefined ? "Choose an account." : undefined,
        amount: amount.ok ? undefined : amount.message,
        description: checkDescription(draft.description),
        to_account_id:
          kind !== "transfer"
            ? undefined
            : to === other
              ? (checkAccountNumber(targetId) ??
                (targetId === sourceId ? "Choose an account other than the one you send from." : undefined))
              : undefined
      }
    }
    setErrors(found)
    if (hasErrors(found) || !amount.ok || sourceAccount === undefined) return focusInvalid()
    setReview({
      amount: amount.value,
      source: sourceAccount,
      target: open.find((a) => a.id === targetId),
      targetId,
      description: draft.description.trim() === "" ? null : draft.description.trim(),
      key: newIdempotencyKey()
    })
  }

  const confirm = async () => {
    if (review === undefined || busy) return
    setBusy(true)
    const body = { amount: review.amount, description: review.description }
    try {
      let lines: Done["lines"]
      if (kind === "transfer") {
        const t = await api.transfer(
          { ...body, from_account_id: review.source.id, to_account_id: review.targetId },
          review.key
        )
        lines = [
          { account: accountName(review.source), balance: t.debit.balance_after, currency: review.source.currency },
          ...(review.target !== undefined
            ? [
                {
                  account: accountName(review.target),
                  balance: t.credit.balance_after,
                  currency: review.target.currency
                }
              ]
            : [])
        ]
      } else {
        const move = kind === "deposit" ? api.deposit : api.withdraw
        const t = await move(review.source.id, body, review.key)
        lines = [{ account: accountName(review.source), balance: t.balance_after, currency: review.source.currency }]
      }
      setBusy(false)
      setDone({ lines, accountId: review.source.id })
      accounts.reload()
      pollNow()
    } catch (error) {
      setBusy(false)
      // Unreachable server: the same intent (and key) can be confirmed again safely.
      if (error instanceof ApiError && error.problem.status === 0) {
        setErrors({ fields: {}, form: problemToErrors(error, { labels: {} }).form })
        return
      }
      const found = problemToErrors(error, {
        labels: { amount: "Amount", description: "Description", from_account_id: "From", to_account_id: "To" },
        currency: review.source.currency,
        accountField: (id) =>
          id === review.targetId && kind === "transfer"
            ? "to_account_id"
            : id === review.source.id
              ? "account"
              : undefined
      })
      setErrors({
        fields: { ...found.fields, account: found.fields.account ?? found.fields.from_account_id },
        form: found.form
      })
      setReview(undefined)
      accounts.reload()
      focusInvalid()
    }
  }

  const again = () => {
    setDone(undefined)
    setReview(undefined)
    setErrors(noErrors)
    set({ amount: "", description: "" })
  }

  const tabs = (
    <nav className="segmented" aria-label="Kind of movement">
      {(["deposit", "withdraw", "transfer"] as const).map((k) => (
        <Link
          key={k}
          to={`/${k}${sourceId ? `?account=${sourceId}` : ""}`}
          aria-current={k === kind ? "page" : undefined}
        >
          {titles[k]}
        </Link>
      ))}
    </nav>
  )

  const heading = <PageHeader title={titles[kind]} subtitle="Move money between accounts, in or out." />

  if (accounts.data === undefined) {
    return (
      <>
        {heading}
        {tabs}
        {accounts.error !== undefined ? (
          <ErrorNotice error={accounts.error} onRetry={accounts.reload} />
        ) : (
          <div className="card form-card">
            <Skeleton lines={6} label="Loading your accounts" />
          </div>
        )}
      </>
    )
  }

  if (open.length === 0) {
    return (
      <>
        {heading}
        {tabs}
        <div className="card empty">
          <p>You need an open account first.</p>
          <Link to="/accounts/new" className="button button-primary">
            Open an account
          </Link>
        </div>
      </>
    )
  }

  if (done !== undefined) {
    return (
      <>
        {heading}
        <section className="card form-card result" aria-labelledby="done-heading">
          <h2 id="done-heading" ref={stepHeading} tabIndex={-1}>
            {titles[kind]} complete
          </h2>
          <dl className="summary">
            {done.lines.map((l) => (
              <div key={l.account}>
                <dt>{l.account}</dt>
                <dd>
                  New balance <Money amount={l.balance} currency={l.currency} />
                </dd>
              </div>
            ))}
          </dl>
          <div className="button-row">
            <Link to={`/accounts/${done.accountId}`} className="button button-primary">
              View account
            </Link>
            <button type="button" className="button button-secondary" onClick={again}>
              Make another {titles[kind].toLowerCase()}
            </button>
          </div>
        </section>
      </>
    )
  }

  if (review !== undefined) {
    const amount = formatMoney(review.amount, review.source.currency)
    const sentence =
      kind === "deposit"
        ? `Deposit ${amount} into ${accountName(review.source)}?`
        : kind === "withdraw"
          ? `Withdraw ${amount} from ${accountName(review.source)}?`
          : `Transfer ${amount} from ${accountName(review.source)} to ${
              review.target !== undefined ? accountName(review.target) : `account ${shortAccount(review.targetId)}`
            }?`
    return (
      <>
        {heading}
        <section className="card form-card" aria-labelledby="review-heading">
          <h2 id="review-heading" ref={stepHeading} tabIndex={-1}>
            Check and confirm
          </h2>
          <p className="review-sentence">{sentence}</p>
          <dl className="summary">
            <div>
              <dt>{kind === "deposit" ? "Into" : "From"}</dt>
              <dd>{accountName(review.source)}</dd>
            </div>
            {kind === "transfer" ? (
              <div>
                <dt>To</dt>
                <dd>{review.target !== undefined ? accountName(review.target) : <code>{review.targetId}</code>}</dd>
              </div>
            ) : null}
            <div>
              <dt>Amount</dt>
              <dd>
                <Money amount={review.amount} currency={review.source.currency} />
              </dd>
            </div>
            {review.description !== null ? (
              <div>
                <dt>Description</dt>
                <dd>{review.description}</dd>
              </div>
            ) : null}
            <div>
              <dt>Current balance</dt>
              <dd>
                <Money amount={review.source.balance} currency={review.source.currency} />
              </dd>
            </div>
          </dl>
          <FormAlert message={errors.form} />
          <div className="button-row">
            <button type="button" className="button button-primary" onClick={confirm} disabled={busy} aria-busy={busy}>
              {busy ? "Working…" : `Confirm ${titles[kind].toLowerCase()}`}
            </button>
            <button
              type="button"
              className="button button-secondary"
              disabled={busy}
              onClick={() => {
                setErrors(noErrors)
                setReview(undefined)
              }}
            >
              Change
            </button>
          </div>
        </section>
      </>
    )
  }

  return (
    <>
      {heading}
      {tabs}
      <form ref={form} className="card form-card" onSubmit={toReview} noValidate>
        <FormAlert message={errors.form} />
        <SelectField
          label={kind === "deposit" ? "Into account" : "From account"}
          name="account"
          value={sourceId}
          onValue={(id) => set(kind === "transfer" ? { from: id } : { account: id })}
          error={errors.fields.account}
        >
          {open.map((a) => (
            <option key={a.id} value={a.id}>
              {accountOption(a)}
            </option>
          ))}
        </SelectField>
        {kind === "transfer" ? (
          <>
            <SelectField
              label="To account"
              name="to"
              value={to}
              onValue={(id) => set({ to: id })}
              error={to === other ? undefined : errors.fields.to_account_id}
            >
              {targets.map((a) => (
                <option key={a.id} value={a.id}>
                  {accountOption(a)}
                </option>
              ))}
              <option value={other}>Someone else’s account…</option>
            </SelectField>
            {to === other ? (
              <TextField
                label="Their account number"
                name="to_number"
                hint="The full number, as shown on their account page."
                autoComplete="off"
                spellCheck={false}
                value={draft.toNumber}
                onValue={(toNumber) => set({ toNumber })}
                error={errors.fields.to_account_id}
              />
            ) : null}
          </>
        ) : null}
        <TextField
          label="Amount"
          name="amount"
          inputMode="decimal"
          autoComplete="off"
          hint={
            kind === "deposit" || sourceAccount === undefined ? undefined : (
              <>
                Available: <Money amount={sourceAccount.balance} currency={currency} />
              </>
            )
          }
          value={draft.amount}
          onValue={(amount) => set({ amount })}
          error={errors.fields.amount}
          suffix={currency}
        />
        <TextField
          label="Description"
          name="description"
          optional
          maxLength={140}
          autoComplete="off"
          value={draft.description}
          onValue={(description) => set({ description })}
          error={errors.fields.description}
        />
        <div className="button-row">
          <button type="submit" className="button button-primary">
            Review {titles[kind].toLowerCase()}
          </button>
        </div>
      </form>
    </>
  )
}
