/**
 * Jobs (seed 004): start one (an account statement, an ingest summary, or — admins — an analytics
 * snapshot), follow the list live while anything runs (progress, the reason of a failure), and
 * download a finished job's CSV. Pipelines started by the user are listed with their state.
 */
import { type FormEvent, useMemo, useRef, useState } from "react"
import { type Account, api, type Job } from "../api.ts"
import { useAccounts } from "../accounts.tsx"
import { formatDateTime } from "../format.ts"
import { type FormErrors, FormAlert, noErrors, problemToErrors, sentence, useFocusInvalid } from "../forms.tsx"
import {
  checkJob,
  defaultJobName,
  emptyJob,
  isFinished,
  type JobDraft,
  JobFields,
  jobField,
  JobItem,
  jobLabels,
  pollMs,
  StatusBadge,
  useFinishedAnnouncement
} from "../jobs.tsx"
import { type Resource, usePolling, useResource } from "../resource.ts"
import { Link } from "../router.tsx"
import { useUser } from "../session.tsx"
import { ErrorNotice, PageHeader, Skeleton, StaleNotice } from "../ui.tsx"

/** Pipelines shown on this screen (the newest). */
const pipelinesShown = 10

export const Jobs = () => {
  const me = useUser()
  const accounts = useAccounts(me.id)
  const jobs = useResource("jobs", (signal) => api.jobs(signal))
  // Started here, until the list has them.
  const [started, setStarted] = useState<ReadonlyArray<Job>>([])
  const list = useMemo(() => {
    if (jobs.data === undefined) return undefined
    const known = new Set(jobs.data.map((j) => j.id))
    return [...started.filter((j) => !known.has(j.id)), ...jobs.data]
  }, [jobs.data, started])
  usePolling(jobs, list?.some((j) => !isFinished(j.status)) ?? false, pollMs)
  const announcement = useFinishedAnnouncement(list)

  const single = list?.filter((j) => j.pipeline_id === null)
  const pipelineIds = useMemo(
    () => [...new Set((list ?? []).flatMap((j) => (j.pipeline_id === null ? [] : [j.pipeline_id])))],
    [list]
  )

  return (
    <>
      <PageHeader
        title="Jobs"
        subtitle="Reports that run in the background. Download them when they are done."
        actions={
          <Link to="/pipelines/new" className="button button-secondary">
            New pipeline
          </Link>
        }
      />
      <p className="visually-hidden" role="status">
        {announcement}
      </p>
      <div className="columns">
        <StartJob
          accounts={accounts}
          onStarted={(job) => {
            setStarted((old) => [job, ...old])
            jobs.reload()
          }}
        />
        <section className="card" aria-labelledby="jobs-heading">
          <div className="card-heading">
            <h2 id="jobs-heading">{me.role === "admin" ? "All jobs" : "Your jobs"}</h2>
          </div>
          {jobs.error !== undefined && single === undefined ? (
            <ErrorNotice error={jobs.error} onRetry={jobs.reload} />
          ) : single === undefined ? (
            <Skeleton lines={6} label="Loading your jobs" />
          ) : single.length === 0 ? (
            <p className="empty">No jobs yet. Start one, and it shows here while it runs.</p>
          ) : (
            <>
              {jobs.error !== undefined ? <StaleNotice error={jobs.error} onRetry={jobs.reload} /> : null}
              <ul className="job-list" aria-labelledby="jobs-heading">
                {single.map((j) => (
                  <JobItem key={j.id} job={j} accounts={accounts.data} />
                ))}
              </ul>
            </>
          )}
        </section>
      </div>
      <section className="card" aria-labelledby="pipelines-heading">
        <div className="card-heading">
          <h2 id="pipelines-heading">Pipelines</h2>
          <Link to="/pipelines/new">New pipeline</Link>
        </div>
        {list === undefined ? (
          jobs.error !== undefined ? null : (
            <Skeleton lines={2} label="Loading your pipelines" />
          )
        ) : pipelineIds.length === 0 ? (
          <p className="empty">
            No pipelines yet. A pipeline runs jobs one after another, and stops at the first that fails.
          </p>
        ) : (
          <ul className="pipeline-list">
            {pipelineIds.slice(0, pipelinesShown).map((id) => (
              <PipelineItem key={id} pipelineId={id} />
            ))}
          </ul>
        )}
      </section>
    </>
  )
}

/** One pipeline in the list, followed while it runs. */
const PipelineItem = ({ pipelineId }: { readonly pipelineId: string }) => {
  const pipeline = useResource(`pipeline:${pipelineId}`, (signal) => api.pipeline(pipelineId, signal))
  const p = pipeline.data
  usePolling(pipeline, p !== undefined && !isFinished(p.status), pollMs)
  if (p === undefined) {
    return (
      <li className="pipeline-item">
        {pipeline.error !== undefined ? (
          <ErrorNotice error={pipeline.error} onRetry={pipeline.reload} />
        ) : (
          <Skeleton lines={1} label="Loading a pipeline" />
        )}
      </li>
    )
  }
  const done = p.steps.filter((s) => s.status === "succeeded").length
  return (
    <li className="pipeline-item">
      <div className="job-main">
        <Link to={`/pipelines/${p.id}`} className="job-name">
          {p.pipeline_name}
        </Link>
        <span className="job-details">
          {done} of {p.steps.length} step{p.steps.length === 1 ? "" : "s"} done · started{" "}
          <time dateTime={p.created_at}>{formatDateTime(p.created_at)}</time>
        </span>
        {p.status === "failed" && p.error !== null ? <span className="job-error">{sentence(p.error)}</span> : null}
      </div>
      <div className="job-status">
        <StatusBadge status={p.status} />
      </div>
    </li>
  )
}

const StartJob = ({
  accounts,
  onStarted
}: {
  readonly accounts: Resource<ReadonlyArray<Account>>
  readonly onStarted: (job: Job) => void
}) => {
  const me = useUser()
  const [draft, setDraft] = useState<JobDraft>(() => emptyJob())
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const [done, setDone] = useState<string | undefined>(undefined)
  const form = useRef<HTMLFormElement>(null)
  const focusInvalid = useFocusInvalid(form)
  const mine = accounts.data ?? []

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (busy) return
    setDone(undefined)
    const checked = checkJob(draft, mine, me.role)
    if (!checked.ok) {
      setErrors({ fields: checked.errors })
      return focusInvalid()
    }
    setErrors(noErrors)
    setBusy(true)
    try {
      const job = await api.startJob({ job_name: checked.name ?? defaultJobName(checked.spec, mine), ...checked.spec })
      setBusy(false)
      onStarted(job)
      setDone(`Started “${job.job_name}”. It is listed under ${me.role === "admin" ? "All jobs" : "Your jobs"}.`)
      setDraft((d) => ({ ...d, name: "" }))
    } catch (error) {
      setBusy(false)
      setErrors(problemToErrors(error, { labels: jobLabels, field: jobField }))
      focusInvalid()
    }
  }

  return (
    <form ref={form} className="card" onSubmit={submit} noValidate aria-busy={busy} aria-labelledby="start-heading">
      <h2 id="start-heading" className="card-title">
        Start a job
      </h2>
      {accounts.data === undefined && accounts.error === undefined ? (
        <Skeleton lines={6} label="Loading your accounts" />
      ) : (
        <>
          <FormAlert message={errors.form} />
          {accounts.error !== undefined ? <ErrorNotice error={accounts.error} onRetry={accounts.reload} /> : null}
          <JobFields
            draft={draft}
            set={(patch) => setDraft((d) => ({ ...d, ...patch }))}
            errors={errors.fields}
            accounts={mine}
            role={me.role}
          />
          <div className="button-row">
            <button type="submit" className="button button-primary" disabled={busy}>
              {busy ? "Starting…" : "Start job"}
            </button>
          </div>
          <p className="form-success" role="status">
            {done}
          </p>
        </>
      )}
    </form>
  )
}
