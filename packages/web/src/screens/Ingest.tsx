/**
 * Ingest (seed 001): what records came in (counts by type and source, the last hour's rate), the
 * most recent ones (filtered by type, `?type=` in the address), and a form to send one record.
 * A record is accepted (202) once the broker holds it and stored by a batching worker a moment
 * later: until then it is listed as waiting, and the screen refreshes itself. Admins also see
 * the analytics summary, each number from the service that owns it.
 */
import { type FormEvent, useEffect, useMemo, useRef, useState } from "react"
import { api, type AnalyticsSummary, type Count, type IngestRecord, type IngestStats, type Json } from "../api.ts"
import { formatCount, formatDate, formatTime } from "../format.ts"
import {
  type FormErrors,
  FormAlert,
  hasErrors,
  noErrors,
  problemToErrors,
  SelectField,
  TextAreaField,
  TextField,
  useFocusInvalid
} from "../forms.tsx"
import { type Resource, usePolling, useResource } from "../resource.ts"
import { navigate } from "../router.tsx"
import { useUser } from "../session.tsx"
import { Badge, ErrorNotice, Money, PageHeader, Skeleton, StaleNotice } from "../ui.tsx"
import { checkLabel, labelRule, parseJsonData } from "../validation.ts"

/** Stats and recent records refresh this often while the screen is shown. */
const refreshMs = 5_000
const pageSize = 20
const maxRecent = 500
const lateAfterMs = 20_000

interface Waiting {
  readonly id: string
  readonly type: string
  readonly source: string
  readonly data: Json
  readonly acceptedAt: number
}

// Records sent from this tab that the worker has not stored yet, per user (kept across screens).
const waitingByUser = new Map<string, ReadonlyArray<Waiting>>()

/** A short, single-line view of a record's data; the whole of it is in the title. */
const preview = (data: Json): string => {
  const text = JSON.stringify(data)
  return text.length > 120 ? `${text.slice(0, 119)}…` : text
}

export const Ingest = ({ type }: { readonly type: string | undefined }) => {
  const me = useUser()
  // A filter that could never match is not sent (the API would refuse it).
  const filter = type !== undefined && labelRule.test(type) ? type : undefined
  const [limit, setLimit] = useState(pageSize)
  const stats = useResource("ingest-stats", (signal) => api.ingestStats(signal))
  const recent = useResource(
    `ingest-recent:${filter ?? ""}:${limit}`,
    (signal) => api.ingestRecent({ limit, type: filter }, signal),
    { keepPrevious: true }
  )
  usePolling(stats, true, refreshMs)
  usePolling(recent, true, refreshMs)

  const [waiting, setWaiting] = useState<ReadonlyArray<Waiting>>(() => waitingByUser.get(me.id) ?? [])
  useEffect(() => {
    waitingByUser.set(me.id, waiting)
  }, [me.id, waiting])

  // Whether the worker stored what was sent: the newest records of the oldest waiting one's type.
  const checkType = waiting[0]?.type
  const check = useResource(
    checkType === undefined ? null : `ingest-check:${checkType}:${waiting.map((w) => w.id).join(",")}`,
    (signal) => api.ingestRecent({ limit: 100, type: checkType }, signal)
  )
  const late = waiting.some((w) => Date.now() - w.acceptedAt > lateAfterMs)
  usePolling(check, checkType !== undefined, late ? 5_000 : 1_000)
  const { reload: reloadStats } = stats
  const { reload: reloadRecent } = recent
  useEffect(() => {
    if (check.data === undefined) return
    const stored = new Set(check.data.map((r) => r.id))
    if (!waiting.some((w) => stored.has(w.id))) return
    setWaiting(waiting.filter((w) => !stored.has(w.id)))
    reloadStats()
    reloadRecent()
  }, [check.data, waiting, reloadStats, reloadRecent])

  const setFilter = (next: string) => {
    setLimit(pageSize)
    navigate(next === "" ? "/ingest" : `/ingest?type=${encodeURIComponent(next)}`, { replace: true })
  }

  return (
    <>
      <PageHeader title="Ingest" subtitle="Records sent to Microbank, stored in batches by the ingest worker." />
      {me.role === "admin" ? <Analytics records={stats.data?.total} /> : null}
      <div className="columns">
        <SendRecord
          onAccepted={(record) => {
            setWaiting((old) => [...old, record])
          }}
        />
        <Stats stats={stats} />
      </div>
      <section className="card" aria-labelledby="recent-heading">
        <div className="card-heading">
          <h2 id="recent-heading">Recent records</h2>
          <div className="card-tools">
            <SelectField label="Show" name="filter" value={filter ?? ""} onValue={setFilter} className="compact-select">
              <option value="">All types</option>
              {[
                ...new Set([
                  ...(filter !== undefined ? [filter] : []),
                  ...(stats.data?.by_type ?? []).map((c) => c.name)
                ])
              ]
                .sort()
                .map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
            </SelectField>
          </div>
        </div>
        <p className="live-note" role="status">
          {waiting.length === 0
            ? ""
            : late
              ? "Still waiting for the ingest worker to store what you sent. It was accepted and appears here once stored."
              : waiting.length === 1
                ? "1 record waiting to be stored…"
                : `${waiting.length} records waiting to be stored…`}
        </p>
        <RecentTable
          recent={recent}
          waiting={waiting.filter((w) => filter === undefined || w.type === filter)}
          filtered={filter !== undefined}
        />
        <div className="pager">
          <button
            type="button"
            className="button button-secondary"
            disabled={recent.loading || (recent.data?.length ?? 0) < limit || limit >= maxRecent}
            onClick={() => setLimit((l) => Math.min(l + pageSize, maxRecent))}
          >
            Show more
          </button>
        </div>
      </section>
    </>
  )
}

const RecentTable = ({
  recent,
  waiting,
  filtered
}: {
  readonly recent: Resource<ReadonlyArray<IngestRecord>>
  readonly waiting: ReadonlyArray<Waiting>
  readonly filtered: boolean
}) => {
  const rows = recent.data
  if (recent.error !== undefined && rows === undefined)
    return <ErrorNotice error={recent.error} onRetry={recent.reload} />
  if (rows === undefined) return <Skeleton lines={6} label="Loading recent records" />
  const shown = new Set(rows.map((r) => r.id))
  const pending = waiting.filter((w) => !shown.has(w.id))
  if (rows.length === 0 && pending.length === 0) {
    return <p className="empty">{filtered ? "No records of this type yet." : "No records yet. Send one above."}</p>
  }
  return (
    <div className="table-wrap">
      {recent.error !== undefined ? <StaleNotice error={recent.error} onRetry={recent.reload} /> : null}
      <table className="records" aria-describedby="recent-heading" aria-busy={recent.previous}>
        <thead>
          <tr>
            <th scope="col" className="date-col">
              Received
            </th>
            <th scope="col">Type and source</th>
            <th scope="col">Data</th>
          </tr>
        </thead>
        <tbody>
          {pending.map((w) => (
            <tr key={w.id} className="row-pending">
              <td className="date date-col">
                <time dateTime={new Date(w.acceptedAt).toISOString()}>
                  <span>{formatDate(new Date(w.acceptedAt).toISOString())}</span>{" "}
                  <span>{formatTime(new Date(w.acceptedAt).toISOString())}</span>
                </time>
              </td>
              <td>
                <span className="tx-type">
                  {w.type} <Badge tone="accent">Waiting</Badge>
                </span>
                <span className="tx-description">{w.source}</span>
              </td>
              <td>
                <code className="json" title={JSON.stringify(w.data)}>
                  {preview(w.data)}
                </code>
              </td>
            </tr>
          ))}
          {rows.map((r) => (
            <tr key={r.id}>
              <td className="date date-col">
                <time dateTime={r.received_at}>
                  <span>{formatDate(r.received_at)}</span> <span>{formatTime(r.received_at)}</span>
                </time>
              </td>
              <td>
                <span className="tx-type">{r.type}</span>
                <span className="tx-description">{r.source}</span>
              </td>
              <td>
                <code className="json" title={JSON.stringify(r.data)}>
                  {preview(r.data)}
                </code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

const CountTable = ({ caption, counts }: { readonly caption: string; readonly counts: ReadonlyArray<Count> }) => {
  const top = counts.slice(0, 8)
  const rest = counts.slice(8).reduce((sum, c) => sum + c.count, 0)
  return (
    <table className="counts">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col" className="num">
            Records
          </th>
        </tr>
      </thead>
      <tbody>
        {top.length === 0 ? (
          <tr>
            <td colSpan={2} className="muted">
              None yet
            </td>
          </tr>
        ) : (
          top.map((c) => (
            <tr key={c.name}>
              <th scope="row">{c.name}</th>
              <td className="num">{formatCount(c.count)}</td>
            </tr>
          ))
        )}
        {rest > 0 ? (
          <tr>
            <th scope="row" className="muted">
              {counts.length - top.length} more
            </th>
            <td className="num">{formatCount(rest)}</td>
          </tr>
        ) : null}
      </tbody>
    </table>
  )
}

const Stats = ({ stats }: { readonly stats: Resource<IngestStats> }) => {
  const s = stats.data
  return (
    <section className="card" aria-labelledby="stats-heading">
      <div className="card-heading">
        <h2 id="stats-heading">Stats</h2>
        <span className="muted">Live</span>
      </div>
      {stats.error !== undefined && s === undefined ? (
        <ErrorNotice error={stats.error} onRetry={stats.reload} />
      ) : s === undefined ? (
        <Skeleton lines={7} label="Loading the stats" />
      ) : (
        <>
          {stats.error !== undefined ? <StaleNotice error={stats.error} onRetry={stats.reload} /> : null}
          <dl className="figures">
            <div>
              <dt>Records</dt>
              <dd>{formatCount(s.total)}</dd>
            </div>
            <div>
              <dt>Last hour</dt>
              <dd>{formatCount(s.last_hour)}</dd>
            </div>
            <div>
              <dt>Per minute</dt>
              <dd>{formatCount(s.per_minute_last_hour)}</dd>
            </div>
          </dl>
          <p className="hint">Per minute: the average over the last hour.</p>
          <div className="count-tables">
            <CountTable caption="By type" counts={s.by_type} />
            <CountTable caption="By source" counts={s.by_source} />
          </div>
        </>
      )}
    </section>
  )
}

const recordLabels = { type: "Type", source: "Source", data: "Data" }

const SendRecord = ({ onAccepted }: { readonly onAccepted: (record: Waiting) => void }) => {
  const [type, setType] = useState("")
  const [source, setSource] = useState("web")
  const [data, setData] = useState("")
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const [done, setDone] = useState<string | undefined>(undefined)
  const form = useRef<HTMLFormElement>(null)
  const focusInvalid = useFocusInvalid(form)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (busy) return
    setDone(undefined)
    const parsed = parseJsonData(data)
    const found: FormErrors = {
      fields: {
        type: checkLabel(type, "type"),
        source: checkLabel(source, "source"),
        data: parsed.ok ? undefined : parsed.message
      }
    }
    setErrors(found)
    if (hasErrors(found) || !parsed.ok) return focusInvalid()
    setBusy(true)
    const record = { type, source, data: parsed.value as Json }
    try {
      const accepted = await api.ingest(record)
      setBusy(false)
      onAccepted({ ...record, id: accepted.ids[0]!, acceptedAt: Date.now() })
      setData("")
      setDone(
        `Record accepted at ${formatTime(new Date().toISOString())}. It is listed below once the worker stores it.`
      )
    } catch (error) {
      setBusy(false)
      setErrors(problemToErrors(error, { labels: recordLabels }))
      focusInvalid()
    }
  }

  return (
    <form ref={form} className="card" onSubmit={submit} noValidate aria-busy={busy} aria-labelledby="send-heading">
      <h2 id="send-heading" className="card-title">
        Send a record
      </h2>
      <FormAlert message={errors.form} />
      <TextField
        label="Type"
        name="type"
        hint="What it is, like temperature or page_view."
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        maxLength={64}
        value={type}
        onValue={setType}
        error={errors.fields.type}
      />
      <TextField
        label="Source"
        name="source"
        hint="Where it comes from, like sensor-1."
        autoComplete="off"
        autoCapitalize="none"
        spellCheck={false}
        maxLength={64}
        value={source}
        onValue={setSource}
        error={errors.fields.source}
      />
      <TextAreaField
        label="Data"
        name="data"
        hint="Any JSON value: an object, an array, a number, text in double quotes."
        rows={4}
        spellCheck={false}
        autoCapitalize="none"
        className="mono"
        placeholder='{"temperature": 21.5}'
        value={data}
        onValue={setData}
        error={errors.fields.data}
      />
      <div className="button-row">
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Sending…" : "Send record"}
        </button>
      </div>
      <p className="form-success" role="status">
        {done}
      </p>
    </form>
  )
}

const figures: ReadonlyArray<readonly [keyof AnalyticsSummary, string]> = [
  ["users", "Users"],
  ["accounts", "Accounts"],
  ["transactions", "Transactions"],
  ["notifications", "Notifications"],
  ["purchases", "Purchases"],
  ["ingested_records", "Ingested records"],
  ["jobs", "Jobs"]
]

/** Admins: Microbank in numbers, each from the service that owns it; again when records arrive. */
const Analytics = ({ records }: { readonly records: number | undefined }) => {
  const summary = useResource("analytics-summary", (signal) => api.analyticsSummary(signal))
  const s = summary.data
  const counted = useRef(records)
  const { reload } = summary
  useEffect(() => {
    if (records === undefined || counted.current === records) return
    const first = counted.current === undefined
    counted.current = records
    if (!first) reload()
  }, [records, reload])
  const shown = useMemo(
    () =>
      s === undefined
        ? []
        : figures.map(([key, label]) => {
            const value = s[key]
            return { key, label, value: typeof value === "number" ? formatCount(value) : "—" }
          }),
    [s]
  )
  return (
    <section className="card analytics" aria-labelledby="analytics-heading">
      <div className="card-heading">
        <h2 id="analytics-heading">Analytics</h2>
        <span className="card-tools">
          {s !== undefined ? (
            <span className="muted">
              As of <time dateTime={s.generated_at}>{formatTime(s.generated_at)}</time>
            </span>
          ) : null}
          <button type="button" className="link-button" onClick={summary.reload} disabled={summary.loading}>
            Refresh
          </button>
        </span>
      </div>
      {summary.error !== undefined && s === undefined ? (
        <ErrorNotice error={summary.error} onRetry={summary.reload} />
      ) : s === undefined ? (
        <Skeleton lines={2} label="Loading the analytics summary" />
      ) : (
        <>
          {summary.error !== undefined ? <StaleNotice error={summary.error} onRetry={summary.reload} /> : null}
          <dl className="figures figures-wide" aria-busy={summary.loading}>
            <div>
              <dt>Total balance</dt>
              <dd>
                <Money amount={s.total_balance} currency="USD" />
              </dd>
            </div>
            {shown.map((f) => (
              <div key={f.key}>
                <dt>{f.label}</dt>
                <dd>{f.value}</dd>
              </div>
            ))}
          </dl>
        </>
      )}
    </section>
  )
}
