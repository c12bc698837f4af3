/**
 * Purchases (seed 003): buying records a purchase at a price, as the signed-in user. The API
 * answers 202 once the event is on its way (Kafka topic `purchases`); a consumer group stores it
 * a moment later. Until the history shows it, the purchase is listed as pending and the history
 * refreshes itself — no reload.
 */
import { type FormEvent, useEffect, useMemo, useRef, useState } from "react"
import { api, type Purchase } from "../api.ts"
import { formatDateTime, formatDecimal, formatMoney, minorToDecimal, parseAmount } from "../format.ts"
import {
  type FormErrors,
  FormAlert,
  hasErrors,
  noErrors,
  problemToErrors,
  TextField,
  useFocusInvalid
} from "../forms.tsx"
import { usePolling, useResource } from "../resource.ts"
import { useUser } from "../session.tsx"
import { Badge, ErrorNotice, Money, PageHeader, Skeleton, StaleNotice } from "../ui.tsx"

/** Purchases are priced in the bank's currency. */
const currency = "USD"

/** Accepted by the API, not yet in the stored history. */
interface Pending {
  readonly id: string
  /** Decimal string, as sent. */
  readonly price: string
  /** Seconds since the epoch, from the API's answer. */
  readonly timestamp: number
  /** When the answer came, in this tab's clock. */
  readonly acceptedAt: number
}

// Survives leaving the screen and coming back (not a reload: the history then has them, or will).
const pendingByUser = new Map<string, ReadonlyArray<Pending>>()

/** After this long the history refreshes less often, and the screen says the purchase is late. */
const lateAfterMs = 20_000

const whenBought = (timestamp: number): string => new Date(timestamp * 1000).toISOString()

export const Purchases = () => {
  const me = useUser()
  const history = useResource(`purchases:${me.id}`, (signal) => api.purchases(me.id, signal))
  const [pending, setPending] = useState<ReadonlyArray<Pending>>(() => pendingByUser.get(me.id) ?? [])
  const [price, setPrice] = useState("")
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const [done, setDone] = useState<string | undefined>(undefined)
  const form = useRef<HTMLFormElement>(null)
  const focusInvalid = useFocusInvalid(form)

  const stored = history.data
  const waiting = useMemo(() => {
    const ids = new Set(stored?.map((p) => p.id))
    return pending.filter((p) => !ids.has(p.id))
  }, [pending, stored])

  // What the history now holds is no longer pending.
  useEffect(() => {
    if (stored !== undefined && waiting.length !== pending.length) setPending(waiting)
  }, [stored, waiting, pending.length])
  useEffect(() => {
    pendingByUser.set(me.id, pending)
  }, [me.id, pending])

  const late = waiting.some((p) => Date.now() - p.acceptedAt > lateAfterMs)
  usePolling(history, waiting.length > 0, late ? 5_000 : 1_000)

  const buy = async (event: FormEvent) => {
    event.preventDefault()
    if (busy) return
    setDone(undefined)
    const parsed = parseAmount(price, undefined, "price")
    const found: FormErrors = { fields: { price: parsed.ok ? undefined : parsed.message } }
    setErrors(found)
    if (hasErrors(found) || !parsed.ok) return focusInvalid()
    setBusy(true)
    try {
      const recorded = await api.buy({ username: me.username, userid: me.id, price: parsed.value })
      setBusy(false)
      setPending((old) => [
        { id: recorded.data.id, price: parsed.value, timestamp: recorded.data.timestamp, acceptedAt: Date.now() },
        ...old
      ])
      setPrice("")
      setDone(
        `Purchase of ${formatMoney(parsed.value, currency)} accepted. It shows in your history once it is stored.`
      )
      history.reload()
    } catch (error) {
      setBusy(false)
      setErrors(problemToErrors(error, { labels: { price: "Price" } }))
      focusInvalid()
    }
  }

  const total = stored?.reduce((sum, p) => sum + BigInt(p.price_minor), 0n)

  return (
    <>
      <PageHeader title="Purchases" subtitle="Buy, and see what you bought." />
      <div className="columns">
        <form ref={form} className="card" onSubmit={buy} noValidate aria-busy={busy} aria-labelledby="buy-heading">
          <h2 id="buy-heading" className="card-title">
            Buy
          </h2>
          <p className="card-intro">
            Records a purchase at the price you enter. It travels through Kafka and is stored a moment later; your
            account balances do not change.
          </p>
          <FormAlert message={errors.form} />
          <TextField
            label="Price"
            name="price"
            inputMode="decimal"
            autoComplete="off"
            hint={`More than 0 and at most ${formatDecimal("1000000.00")}, with at most two decimals.`}
            value={price}
            onValue={setPrice}
            error={errors.fields.price}
            suffix={currency}
          />
          <div className="button-row">
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? "Buying…" : "Buy"}
            </button>
          </div>
          <p className="form-success" role="status">
            {done}
          </p>
        </form>
        <section className="card" aria-labelledby="purchases-heading">
          <div className="card-heading">
            <h2 id="purchases-heading">History</h2>
            {stored !== undefined && total !== undefined ? (
              <span className="total">
                {stored.length === 1 ? "1 purchase" : `${stored.length} purchases`}
                {stored.length > 0 ? (
                  <>
                    {" · "}
                    <Money amount={minorToDecimal(total)} currency={currency} />
                  </>
                ) : null}
              </span>
            ) : null}
          </div>
          <p className="live-note" role="status">
            {waiting.length === 0
              ? ""
              : late
                ? "Still waiting for the purchases service to store what you bought. It was accepted and appears here once stored."
                : waiting.length === 1
                  ? "1 purchase on its way…"
                  : `${waiting.length} purchases on their way…`}
          </p>
          {history.error !== undefined && stored === undefined ? (
            <ErrorNotice error={history.error} onRetry={history.reload} />
          ) : stored === undefined ? (
            <Skeleton lines={5} label="Loading your purchases" />
          ) : stored.length === 0 && waiting.length === 0 ? (
            <p className="empty">No purchases yet. What you buy shows up here.</p>
          ) : (
            <div className="table-wrap">
              {history.error !== undefined ? <StaleNotice error={history.error} onRetry={history.reload} /> : null}
              <table className="purchases">
                <thead>
                  <tr>
                    <th scope="col">Date</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="num">
                      Price
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {waiting.map((p) => (
                    <tr key={p.id} className="row-pending">
                      <td>
                        <time dateTime={whenBought(p.timestamp)}>{formatDateTime(whenBought(p.timestamp))}</time>
                      </td>
                      <td>
                        <Badge tone="accent">Pending</Badge>
                      </td>
                      <td className="num">
                        <Money amount={p.price} currency={currency} />
                      </td>
                    </tr>
                  ))}
                  {stored.map((p: Purchase) => (
                    <tr key={p.id}>
                      <td>
                        <time dateTime={whenBought(p.timestamp)}>{formatDateTime(whenBought(p.timestamp))}</time>
                      </td>
                      <td>
                        <Badge tone="success">Recorded</Badge>
                      </td>
                      <td className="num">
                        <Money amount={minorToDecimal(p.price_minor)} currency={currency} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>
    </>
  )
}
