/**
 * What the jobs and pipelines screens share: kinds and their parameters (form fields, checks
 * before sending, server problems back onto those fields), a job's status and progress, and
 * downloading its result with the bearer token.
 */
import { useEffect, useRef, useState } from "react"
import { type Account, api, type Job, type JobKind, type JobSpec, type JobStatus, type Role } from "./api.ts"
import { accountName, formatDateTime, formatPlainDate, formatTime, shortAccount } from "./format.ts"
import { errorMessage, type FieldErrors, SelectField, sentence, TextField } from "./forms.tsx"
import { fileName, saveFile } from "./files.ts"
import { Link } from "./router.tsx"
import { Badge } from "./ui.tsx"
import { checkAccountNumber } from "./validation.ts"

export const kindLabels: Record<JobKind, string> = {
  account_statement: "Account statement",
  ingest_summary: "Ingest summary",
  analytics_snapshot: "Analytics snapshot"
}

export const kindTexts: Record<JobKind, string> = {
  account_statement: "The transactions of one account, for a date range or all of them.",
  ingest_summary: "How many records were ingested, by type and by source.",
  analytics_snapshot: "Counts from every service: users, accounts, transactions, purchases, records."
}

/** Customers run statements and summaries; analytics snapshots are for admins. */
export const kindsFor = (role: Role): ReadonlyArray<JobKind> =>
  role === "admin"
    ? ["account_statement", "ingest_summary", "analytics_snapshot"]
    : ["account_statement", "ingest_summary"]

const kindLabel = (kind: string): string => kindLabels[kind as JobKind] ?? kind

/** How often a job or pipeline that has not finished is asked about. */
export const pollMs = 1_000

export const isFinished = (status: JobStatus): boolean =>
  status === "succeeded" || status === "failed" || status === "skipped"

const statusLabels: Record<JobStatus, string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Done",
  failed: "Failed",
  skipped: "Skipped"
}
const statusTones: Record<JobStatus, string> = {
  queued: "neutral",
  running: "accent",
  succeeded: "success",
  failed: "danger",
  skipped: "neutral"
}

export const StatusBadge = ({ status }: { readonly status: JobStatus }) => (
  <Badge tone={statusTones[status] ?? "neutral"}>{statusLabels[status] ?? status}</Badge>
)

const range = (from: string | undefined, to: string | undefined): string =>
  from !== undefined && to !== undefined
    ? from === to
      ? formatPlainDate(from)
      : `${formatPlainDate(from)} – ${formatPlainDate(to)}`
    : from !== undefined
      ? `from ${formatPlainDate(from)}`
      : to !== undefined
        ? `until ${formatPlainDate(to)}`
        : "all transactions"

/** What a job works on, in a few words: "Checking ••••dff0 · Nov 1 – Nov 21, 2026". */
export const describeParams = (
  job: Pick<Job, "kind" | "params">,
  accounts: ReadonlyArray<Account> | undefined
): string => {
  const params = (typeof job.params === "object" && job.params !== null ? job.params : {}) as Record<string, unknown>
  const text = (key: string) => (typeof params[key] === "string" ? (params[key] as string) : undefined)
  switch (job.kind) {
    case "account_statement": {
      const id = text("account_id") ?? ""
      const account = accounts?.find((a) => a.id === id)
      return `${account !== undefined ? accountName(account) : `Account ${shortAccount(id)}`} · ${range(text("from"), text("to"))}`
    }
    case "ingest_summary": {
      const type = text("type")
      return type !== undefined ? `Type ${type}` : "All types"
    }
    case "analytics_snapshot":
      return "Every service"
    default:
      return ""
  }
}

/** Where a job stands, in words (and a bar while it runs). */
export const JobState = ({ job }: { readonly job: Job }) => {
  switch (job.status) {
    case "queued":
      return <span className="job-state">Waiting to start</span>
    case "running": {
      const { completed, total, message } = job.progress
      return (
        <span className="job-state job-running-state">
          <progress
            value={total !== null ? completed : undefined}
            max={total ?? undefined}
            aria-label={`Progress of ${job.job_name}`}
          />
          <span>{message !== null ? sentence(message) : "Working…"}</span>
        </span>
      )
    }
    case "succeeded":
      return (
        <span className="job-state">
          Finished{" "}
          {job.finished_at !== null ? <time dateTime={job.finished_at}>{formatTime(job.finished_at)}</time> : null}
        </span>
      )
    case "failed":
      return <span className="job-state job-error">{sentence(job.error ?? "The job failed.")}</span>
    case "skipped":
      return <span className="job-state">Not run: an earlier step failed.</span>
    default:
      return null
  }
}

/**
 * Downloads a finished job's CSV. The result needs the bearer token, which a plain link cannot
 * send: it is fetched, then handed to the browser as a file.
 */
export const DownloadButton = ({ job }: { readonly job: Job }) => {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)
  const download = async () => {
    if (busy) return
    setBusy(true)
    setError(undefined)
    try {
      const file = await api.jobResult(job.id)
      saveFile(file.blob, file.filename ?? fileName(job.job_name, "csv", "result"))
    } catch (e) {
      setError(`Could not download: ${errorMessage(e)}`)
    }
    setBusy(false)
  }
  return (
    <span className="download">
      <button type="button" className="button button-secondary" onClick={download} disabled={busy} aria-busy={busy}>
        {busy ? (
          "Downloading…"
        ) : (
          <span>
            Download<span className="visually-hidden"> {job.job_name} as</span> CSV
          </span>
        )}
      </button>
      {error !== undefined ? (
        <span className="job-error" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  )
}

/** One job in a list: name, what it works on, status, progress or reason, and its result. */
export const JobItem = ({
  job,
  accounts,
  step
}: {
  readonly job: Job
  readonly accounts: ReadonlyArray<Account> | undefined
  /** Its number in a pipeline. */
  readonly step?: number
}) => (
  <li className={`job job-${job.status}`}>
    {step !== undefined ? (
      <span className="step-number" aria-hidden="true">
        {step}
      </span>
    ) : null}
    <div className="job-main">
      <span className="job-name">
        {step !== undefined ? <span className="visually-hidden">Step {step}: </span> : null}
        {job.job_name}
      </span>
      <span className="job-details">
        {kindLabel(job.kind)} · {describeParams(job, accounts)}
      </span>
      <span className="job-details">
        {job.started_at !== null ? (
          <>
            Started <time dateTime={job.started_at}>{formatDateTime(job.started_at)}</time>
          </>
        ) : (
          <>
            Added <time dateTime={job.created_at}>{formatDateTime(job.created_at)}</time>
          </>
        )}
        {job.pipeline_id !== null && step === undefined ? (
          <>
            {" · "}
            <Link to={`/pipelines/${job.pipeline_id}`}>In a pipeline</Link>
          </>
        ) : null}
      </span>
    </div>
    <div className="job-status">
      <StatusBadge status={job.status} />
      <JobState job={job} />
      {job.status === "succeeded" && job.result_url !== null ? <DownloadButton job={job} /> : null}
    </div>
  </li>
)

/**
 * Says, politely, when a job finishes or fails while the list is on screen ("November statement
 * is done."): the list itself changes silently.
 */
export const useFinishedAnnouncement = (jobs: ReadonlyArray<Job> | undefined): string => {
  const seen = useRef<Map<string, JobStatus> | undefined>(undefined)
  const [message, setMessage] = useState("")
  useEffect(() => {
    if (jobs === undefined) return
    const before = seen.current
    seen.current = new Map(jobs.map((j) => [j.id, j.status]))
    if (before === undefined) return
    const changed = jobs.filter((j) => {
      const was = before.get(j.id)
      return was !== undefined && !isFinished(was) && isFinished(j.status)
    })
    if (changed.length === 0) return
    setMessage(
      changed
        .map((j) =>
          j.status === "succeeded"
            ? `${j.job_name} is done.`
            : j.status === "failed"
              ? `${j.job_name} failed: ${j.error ?? "no reason given"}.`
              : `${j.job_name} was skipped.`
        )
        .join(" ")
    )
  }, [jobs])
  return message
}

// ---- the parameters of a job, as a form -----------------------------------------------------

export const anotherAccount = "other"

export interface JobDraft {
  readonly kind: JobKind
  readonly name: string
  /** An account id, or `anotherAccount` (admins: a number typed in). */
  readonly account: string
  readonly accountNumber: string
  readonly from: string
  readonly to: string
  readonly type: string
}

export const emptyJob = (kind: JobKind = "account_statement"): JobDraft => ({
  kind,
  name: "",
  account: "",
  accountNumber: "",
  from: "",
  to: "",
  type: ""
})

const isoDate = /^\d{4}-\d{2}-\d{2}$/
const realDate = (value: string): boolean => {
  if (!isoDate.test(value)) return false
  const date = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value)
}

/** The account a draft names: the one picked, the first one, or the number typed in. */
const chosenAccount = (draft: JobDraft, accounts: ReadonlyArray<Account>, role: Role): string =>
  draft.account === anotherAccount && role === "admin"
    ? draft.accountNumber.trim().toLowerCase()
    : accounts.some((a) => a.id === draft.account)
      ? draft.account
      : (accounts[0]?.id ?? (role === "admin" ? draft.accountNumber.trim().toLowerCase() : ""))

/** A name for a job nobody named: "Statement of Checking ••••dff0". */
export const defaultJobName = (spec: JobSpec, accounts: ReadonlyArray<Account>): string => {
  switch (spec.kind) {
    case "account_statement": {
      const account = accounts.find((a) => a.id === spec.params.account_id)
      return `Statement of ${account !== undefined ? accountName(account) : `account ${shortAccount(spec.params.account_id)}`}`
    }
    case "ingest_summary":
      return spec.params.type !== undefined ? `Ingest summary of ${spec.params.type}` : "Ingest summary"
    case "analytics_snapshot":
      return "Analytics snapshot"
  }
}

export type CheckedJob =
  | { readonly ok: true; readonly spec: JobSpec; readonly name: string | undefined }
  | { readonly ok: false; readonly errors: FieldErrors }

/** The API's rules for a job's name and parameters, checked before sending. */
export const checkJob = (draft: JobDraft, accounts: ReadonlyArray<Account>, role: Role): CheckedJob => {
  const name = draft.name.trim()
  const errors: Record<string, string | undefined> = {
    job_name: name.length > 100 ? `Use at most 100 characters (now ${name.length}).` : undefined
  }
  let spec: JobSpec | undefined
  switch (draft.kind) {
    case "account_statement": {
      const account = chosenAccount(draft, accounts, role)
      const typed = draft.account === anotherAccount || accounts.length === 0
      errors.account_id =
        account === ""
          ? role === "admin"
            ? "Enter the account number."
            : "Open an account first: a statement is about one of your accounts."
          : typed
            ? checkAccountNumber(account)
            : undefined
      errors.from = draft.from === "" || realDate(draft.from) ? undefined : "Enter a date like 2026-11-01."
      errors.to =
        draft.to === "" || realDate(draft.to)
          ? draft.from !== "" && draft.to !== "" && draft.to < draft.from
            ? "The last day must be on or after the first day."
            : undefined
          : "Enter a date like 2026-11-30."
      spec = {
        kind: "account_statement",
        params: {
          account_id: account,
          ...(draft.from !== "" ? { from: draft.from } : {}),
          ...(draft.to !== "" ? { to: draft.to } : {})
        }
      }
      break
    }
    case "ingest_summary": {
      const type = draft.type.trim()
      errors.type = type.length > 64 ? `Use at most 64 characters (now ${type.length}).` : undefined
      spec = { kind: "ingest_summary", params: type === "" ? {} : { type } }
      break
    }
    case "analytics_snapshot":
      errors.kind = role === "admin" ? undefined : "Only administrators run analytics snapshots."
      spec = { kind: "analytics_snapshot", params: {} }
      break
  }
  if (Object.values(errors).some((e) => e !== undefined) || spec === undefined) return { ok: false, errors }
  return { ok: true, spec, name: name === "" ? undefined : name }
}

export const jobLabels = {
  kind: "Kind",
  job_name: "Name",
  account_id: "Account",
  from: "First day",
  to: "Last day",
  type: "Type"
}

/** A 422 path into a job's payload → the field: ["payload", "params", "account_id"] → "account_id". */
export const jobField = (path: ReadonlyArray<string | number>): string | undefined => {
  const [where, first, second] = path
  if (where !== "payload") return undefined
  if (first === "params" && typeof second === "string" && second in jobLabels) return second
  if (first === "job_name" || first === "kind") return first
  return undefined
}

/**
 * The fields of one job: what kind (radio cards, or a select inside a pipeline step), an
 * optional name, and the kind's parameters.
 */
export const JobFields = ({
  draft,
  set,
  errors,
  accounts,
  role,
  compact,
  prefix = ""
}: {
  readonly draft: JobDraft
  readonly set: (patch: Partial<JobDraft>) => void
  readonly errors: FieldErrors
  readonly accounts: ReadonlyArray<Account>
  readonly role: Role
  /** A select for the kind (pipeline steps), instead of radio cards. */
  readonly compact?: boolean
  /** Makes field names unique when several jobs are on one form. */
  readonly prefix?: string
}) => {
  const kinds = kindsFor(role)
  const account = draft.account === anotherAccount ? anotherAccount : chosenAccount(draft, accounts, role)
  const typed = account === anotherAccount || (accounts.length === 0 && role === "admin")
  return (
    <>
      {compact ? (
        <SelectField
          label="Kind"
          name={`${prefix}kind`}
          value={draft.kind}
          onValue={(kind) => set({ kind: kind as JobKind })}
          error={errors.kind}
          hint={kindTexts[draft.kind]}
        >
          {kinds.map((k) => (
            <option key={k} value={k}>
              {kindLabels[k]}
            </option>
          ))}
        </SelectField>
      ) : (
        <fieldset className="choice-group">
          <legend>Kind</legend>
          {kinds.map((k) => (
            <label key={k} className="choice">
              <input
                type="radio"
                name={`${prefix}kind`}
                value={k}
                checked={draft.kind === k}
                onChange={() => set({ kind: k })}
              />
              <span>
                <span className="choice-label">{kindLabels[k]}</span>
                <span className="choice-text">{kindTexts[k]}</span>
              </span>
            </label>
          ))}
          {errors.kind !== undefined ? <p className="field-error">{errors.kind}</p> : null}
        </fieldset>
      )}
      {draft.kind === "account_statement" ? (
        <>
          {accounts.length > 0 || role !== "admin" ? (
            <SelectField
              label="Account"
              name={`${prefix}account`}
              value={accounts.length === 0 ? "" : account}
              onValue={(value) => set({ account: value })}
              error={typed ? undefined : errors.account_id}
              hint={
                accounts.length === 0 ? (
                  <>
                    You have no accounts yet. <Link to="/accounts/new">Open an account</Link>
                  </>
                ) : undefined
              }
            >
              {accounts.length === 0 ? <option value="">No accounts yet</option> : null}
              {accounts.map((a) => (
                <option key={a.id} value={a.id}>
                  {accountName(a)}
                  {a.status === "closed" ? " (closed)" : ""}
                </option>
              ))}
              {role === "admin" && accounts.length > 0 ? (
                <option value={anotherAccount}>Another account…</option>
              ) : null}
            </SelectField>
          ) : null}
          {typed ? (
            <TextField
              label="Account number"
              name={`${prefix}account_number`}
              hint="The full number, as shown on the account's page."
              autoComplete="off"
              spellCheck={false}
              value={draft.accountNumber}
              onValue={(accountNumber) => set({ accountNumber })}
              error={errors.account_id}
            />
          ) : null}
          <div className="field-row">
            <TextField
              label="First day"
              name={`${prefix}from`}
              type="date"
              optional
              value={draft.from}
              onValue={(from) => set({ from })}
              error={errors.from}
            />
            <TextField
              label="Last day"
              name={`${prefix}to`}
              type="date"
              optional
              value={draft.to}
              onValue={(to) => set({ to })}
              error={errors.to}
            />
          </div>
          <p className="hint field-row-hint">Days are counted in UTC. Leave both empty for every transaction.</p>
        </>
      ) : draft.kind === "ingest_summary" ? (
        <TextField
          label="Type"
          name={`${prefix}type`}
          optional
          hint="Only records of this type; leave empty for all."
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          maxLength={64}
          value={draft.type}
          onValue={(type) => set({ type })}
          error={errors.type}
        />
      ) : null}
      <TextField
        label="Name"
        name={`${prefix}name`}
        optional
        hint="Shown in the list and used for the file name; one is made up when empty."
        autoComplete="off"
        maxLength={100}
        value={draft.name}
        onValue={(name) => set({ name })}
        error={errors.job_name}
      />
    </>
  )
}
