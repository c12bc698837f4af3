/**
 * Pipelines (seed 004): jobs that run one after another; the first that fails stops the
 * pipeline, with the reason, and the steps after it are skipped. Create one step by step, then
 * follow it live.
 */
import { type FormEvent, useEffect, useRef, useState } from "react"
import { api, type JobSpec } from "../api.ts"
import { useAccounts } from "../accounts.tsx"
import { formatDateTime } from "../format.ts"
import {
  type FieldErrors,
  type FormErrors,
  FormAlert,
  noErrors,
  problemToErrors,
  sentence,
  TextField,
  useFocusInvalid
} from "../forms.tsx"
import {
  checkJob,
  emptyJob,
  isFinished,
  type JobDraft,
  JobFields,
  jobField,
  JobItem,
  jobLabels,
  pollMs,
  StatusBadge
} from "../jobs.tsx"
import { useFlash } from "../Layout.tsx"
import { usePolling, useResource } from "../resource.ts"
import { Link, navigate } from "../router.tsx"
import { useUser } from "../session.tsx"
import { ErrorNotice, PageHeader, Skeleton, StaleNotice } from "../ui.tsx"

/** The API's limit on steps per pipeline. */
const maxSteps = 20

interface StepDraft extends JobDraft {
  /** Stable across removals, for React keys and field names. */
  readonly key: number
}

/** Errors of step `index`, out of the form's `"<index>.<field>"` keys. */
const stepErrors = (fields: FieldErrors, index: number): FieldErrors =>
  Object.fromEntries(
    Object.entries(fields)
      .filter(([key]) => key.startsWith(`${index}.`))
      .map(([key, message]) => [key.slice(`${index}.`.length), message])
  )

/** ["payload", "steps", 1, "params", "account_id"] → "1.account_id"; ["payload", "pipeline_name"] → itself. */
const pipelineField = (path: ReadonlyArray<string | number>): string | undefined => {
  const [where, first, index, ...rest] = path
  if (where !== "payload") return undefined
  if (first === "pipeline_name") return first
  if (first !== "steps" || typeof index !== "number") return undefined
  const field = jobField(["payload", ...rest])
  return field === undefined ? undefined : `${index}.${field}`
}

export const NewPipeline = () => {
  const me = useUser()
  const flash = useFlash()
  const accounts = useAccounts(me.id)
  const [name, setName] = useState("")
  const [steps, setSteps] = useState<ReadonlyArray<StepDraft>>([{ ...emptyJob("ingest_summary"), key: 1 }])
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const form = useRef<HTMLFormElement>(null)
  const addButton = useRef<HTMLButtonElement>(null)
  const focusInvalid = useFocusInvalid(form)
  const nextKey = useRef(2)
  const mine = accounts.data ?? []

  // A step just added takes focus at its first field; after a removal, "Add step" has it.
  const [focusStep, setFocusStep] = useState<number | "add" | undefined>(undefined)
  useEffect(() => {
    if (focusStep === undefined) return
    if (focusStep === "add") addButton.current?.focus()
    else form.current?.querySelector<HTMLElement>(`[name="step${focusStep}-kind"]`)?.focus()
    setFocusStep(undefined)
  }, [focusStep])

  const update = (key: number, patch: Partial<JobDraft>) =>
    setSteps((old) => old.map((s) => (s.key === key ? { ...s, ...patch } : s)))
  const add = () => {
    const key = nextKey.current++
    setSteps((old) => [...old, { ...emptyJob("account_statement"), key }])
    setFocusStep(key)
  }
  const remove = (key: number) => {
    setSteps((old) => old.filter((s) => s.key !== key))
    setErrors(noErrors)
    setFocusStep("add")
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (busy) return
    const fields: Record<string, string | undefined> = {
      pipeline_name:
        name.trim() === ""
          ? "Name the pipeline."
          : name.trim().length > 100
            ? `Use at most 100 characters (now ${name.trim().length}).`
            : undefined
    }
    const specs: Array<{ job_name?: string } & JobSpec> = []
    steps.forEach((step, index) => {
      const checked = checkJob(step, mine, me.role)
      if (checked.ok) specs.push({ ...(checked.name !== undefined ? { job_name: checked.name } : {}), ...checked.spec })
      else for (const [field, message] of Object.entries(checked.errors)) fields[`${index}.${field}`] = message
    })
    if (Object.values(fields).some((m) => m !== undefined) || specs.length !== steps.length) {
      setErrors({ fields })
      return focusInvalid()
    }
    setErrors(noErrors)
    setBusy(true)
    try {
      const pipeline = await api.startPipeline({ pipeline_name: name.trim(), steps: specs })
      flash(`Pipeline “${pipeline.pipeline_name}” started.`, `/pipelines/${pipeline.id}`)
      navigate(`/pipelines/${pipeline.id}`)
    } catch (error) {
      setBusy(false)
      const labels: Record<string, string> = { pipeline_name: "Name" }
      steps.forEach((_, i) => {
        for (const [field, label] of Object.entries(jobLabels)) labels[`${i}.${field}`] = label
      })
      setErrors(problemToErrors(error, { labels, field: pipelineField }))
      focusInvalid()
    }
  }

  return (
    <>
      <PageHeader title="New pipeline" subtitle={<Link to="/jobs">All jobs</Link>} />
      <form ref={form} className="card form-card form-card-wide" onSubmit={submit} noValidate aria-busy={busy}>
        <p className="card-intro">
          The steps run one after another. If one fails, the pipeline stops there with the reason, and the steps after
          it are not run.
        </p>
        <FormAlert message={errors.form} />
        <TextField
          label="Pipeline name"
          name="pipeline_name"
          autoComplete="off"
          maxLength={100}
          value={name}
          onValue={setName}
          error={errors.fields.pipeline_name}
        />
        {accounts.data === undefined && accounts.error === undefined ? (
          <Skeleton lines={4} label="Loading your accounts" />
        ) : (
          <ol className="step-editors">
            {steps.map((step, index) => (
              <li key={step.key}>
                <fieldset className="step-editor">
                  <legend>Step {index + 1}</legend>
                  <JobFields
                    draft={step}
                    set={(patch) => update(step.key, patch)}
                    errors={stepErrors(errors.fields, index)}
                    accounts={mine}
                    role={me.role}
                    compact
                    prefix={`step${step.key}-`}
                  />
                  {steps.length > 1 ? (
                    <button type="button" className="link-button danger" onClick={() => remove(step.key)}>
                      Remove step {index + 1}
                    </button>
                  ) : null}
                </fieldset>
              </li>
            ))}
          </ol>
        )}
        <div className="button-row">
          <button
            ref={addButton}
            type="button"
            className="button button-secondary"
            onClick={add}
            disabled={steps.length >= maxSteps}
          >
            Add step
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? "Starting…" : "Start pipeline"}
          </button>
        </div>
        {steps.length >= maxSteps ? <p className="hint">A pipeline has at most {maxSteps} steps.</p> : null}
      </form>
    </>
  )
}

export const PipelineDetail = ({ pipelineId }: { readonly pipelineId: string }) => {
  const me = useUser()
  const accounts = useAccounts(me.id)
  const pipeline = useResource(`pipeline:${pipelineId}`, (signal) => api.pipeline(pipelineId, signal))
  const p = pipeline.data
  usePolling(pipeline, p !== undefined && !isFinished(p.status), pollMs)

  if (p === undefined) {
    return (
      <>
        <PageHeader title="Pipeline" subtitle={<Link to="/jobs">All jobs</Link>} />
        {pipeline.error !== undefined ? (
          <ErrorNotice error={pipeline.error} onRetry={pipeline.reload} />
        ) : (
          <div className="card">
            <Skeleton lines={5} label="Loading the pipeline" />
          </div>
        )}
      </>
    )
  }

  const total = p.steps.length
  const current = p.steps.findIndex((s) => !isFinished(s.status))
  const skipped = p.steps.filter((s) => s.status === "skipped").length
  const summary =
    p.status === "failed"
      ? `${sentence(p.error ?? "A step failed")}${skipped > 0 ? ` ${skipped === 1 ? "The step after it was" : `The ${skipped} steps after it were`} not run.` : ""}`
      : p.status === "succeeded"
        ? total === 1
          ? "Its step is done."
          : `All ${total} steps are done.`
        : p.status === "running" && current >= 0
          ? `Running step ${current + 1} of ${total}: ${p.steps[current]!.job_name}.`
          : "Waiting to start."

  return (
    <>
      <PageHeader
        title={p.pipeline_name}
        subtitle={
          <>
            <StatusBadge status={p.status} /> Started{" "}
            <time dateTime={p.created_at}>{formatDateTime(p.created_at)}</time> · <Link to="/jobs">All jobs</Link>
          </>
        }
      />
      <section className="card" aria-labelledby="steps-heading">
        <div className="card-heading">
          <h2 id="steps-heading">Steps</h2>
          <span className="muted">
            {p.steps.filter((s) => s.status === "succeeded").length} of {total} done
          </span>
        </div>
        <div
          className={`pipeline-summary${p.status === "failed" ? " notice-error" : p.status === "succeeded" ? " pipeline-done" : ""}`}
          role="status"
        >
          {summary}
        </div>
        {pipeline.error !== undefined ? <StaleNotice error={pipeline.error} onRetry={pipeline.reload} /> : null}
        <ol className="job-list steps" aria-labelledby="steps-heading">
          {p.steps.map((s, i) => (
            <JobItem key={s.id} job={s} accounts={accounts.data} step={i + 1} />
          ))}
        </ol>
      </section>
    </>
  )
}
