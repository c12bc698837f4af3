/**
 * The jobs service: jobs that do real work as durable workflows (they survive restarts and
 * finish once), and pipelines that run jobs in order.
 */
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema } from "effect/http-api"
import { Forbidden, NotFound } from "./Problems.ts"

export const JobId = Schema.String.check(Schema.isUUID())
export const JobStatus = Schema.Literals(["queued", "running", "succeeded", "failed", "skipped"])
export type JobStatus = typeof JobStatus.Type

const isCalendarDate = (s: string) => {
  const date = new Date(`${s}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(s)
}

const IsoDate = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}$/, { message: "must be a date like 2026-11-21" }),
  Schema.makeFilter(isCalendarDate, { message: "must be a real calendar date" })
)

/** What a job does, and its parameters. */
export const JobSpec = Schema.Union([
  Schema.Struct({
    kind: Schema.Literal("account_statement"),
    params: Schema.Struct({
      account_id: Schema.String.check(Schema.isUUID()),
      from: Schema.optional(IsoDate),
      to: Schema.optional(IsoDate)
    }).check(
      Schema.makeFilter((p) => p.from === undefined || p.to === undefined || p.from <= p.to, {
        message: "from must not be after to"
      })
    )
  }),
  Schema.Struct({
    kind: Schema.Literal("ingest_summary"),
    params: Schema.Struct({ type: Schema.optional(Schema.String.check(Schema.isMaxLength(64))) })
  }),
  Schema.Struct({ kind: Schema.Literal("analytics_snapshot"), params: Schema.Struct({}) })
])
export type JobSpec = typeof JobSpec.Type
export type JobKind = JobSpec["kind"]
export const jobKinds: ReadonlyArray<JobKind> = ["account_statement", "ingest_summary", "analytics_snapshot"]

const JobName = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(100))

export const Job = Schema.Struct({
  id: JobId,
  job_name: Schema.String,
  kind: Schema.String,
  params: Schema.Json,
  owner_id: Schema.String,
  status: JobStatus,
  progress: Schema.Struct({
    completed: Schema.Int,
    total: Schema.NullOr(Schema.Int),
    message: Schema.NullOr(Schema.String)
  }),
  error: Schema.NullOr(Schema.String),
  result_url: Schema.NullOr(Schema.String),
  pipeline_id: Schema.NullOr(Schema.String),
  created_at: Schema.String,
  started_at: Schema.NullOr(Schema.String),
  finished_at: Schema.NullOr(Schema.String)
})
export type Job = typeof Job.Type

export const Pipeline = Schema.Struct({
  id: Schema.String,
  pipeline_name: Schema.String,
  owner_id: Schema.String,
  status: JobStatus,
  error: Schema.NullOr(Schema.String),
  steps: Schema.Array(Job),
  created_at: Schema.String,
  finished_at: Schema.NullOr(Schema.String)
})
export type Pipeline = typeof Pipeline.Type

/** Who asks: the gateway passes the caller; admins may see every job and run every kind. */
const Caller = { owner_id: Schema.String, owner_role: Schema.Literals(["customer", "admin"]) }
const Owner = { owner_id: Schema.optional(Schema.String) }

export const JobRequest = Schema.Struct({ job_name: JobName, spec: JobSpec, ...Caller })
export const PipelineRequest = Schema.Struct({
  pipeline_name: JobName,
  steps: Schema.Array(Schema.Struct({ job_name: Schema.optional(JobName), spec: JobSpec })).check(
    Schema.isMinLength(1),
    Schema.isMaxLength(20)
  ),
  ...Caller
})

/** Public shape of a job request: `{job_name, kind, params}` (seed 004's body plus what to do). */
export const PublicJobRequest = Schema.Union(
  JobSpec.members.map((m) => Schema.Struct({ job_name: JobName, ...m.fields })) as unknown as readonly [
    Schema.Struct<{ job_name: typeof JobName } & (typeof JobSpec.members)[0]["fields"]>,
    Schema.Struct<{ job_name: typeof JobName } & (typeof JobSpec.members)[1]["fields"]>,
    Schema.Struct<{ job_name: typeof JobName } & (typeof JobSpec.members)[2]["fields"]>
  ]
)

export const PublicPipelineRequest = Schema.Struct({
  pipeline_name: JobName,
  steps: Schema.Array(
    Schema.Union(
      JobSpec.members.map((m) =>
        Schema.Struct({ job_name: Schema.optional(JobName), ...m.fields })
      ) as unknown as readonly [
        Schema.Struct<{ job_name: Schema.optional<typeof JobName> } & (typeof JobSpec.members)[0]["fields"]>,
        Schema.Struct<{ job_name: Schema.optional<typeof JobName> } & (typeof JobSpec.members)[1]["fields"]>,
        Schema.Struct<{ job_name: Schema.optional<typeof JobName> } & (typeof JobSpec.members)[2]["fields"]>
      ]
    )
  ).check(Schema.isMinLength(1), Schema.isMaxLength(20))
})

export const Csv = Schema.String.pipe(HttpApiSchema.asText({ contentType: "text/csv; charset=utf-8" }))

export const JobsApi = HttpApi.make("jobs")
  .add(
    HttpApiGroup.make("jobs")
      .add(
        HttpApiEndpoint.post("create", "/jobs", {
          payload: JobRequest,
          success: Job.pipe(HttpApiSchema.status(202)),
          error: Forbidden
        })
      )
      .add(HttpApiEndpoint.get("list", "/jobs", { query: Owner, success: Schema.Array(Job) }))
      .add(
        HttpApiEndpoint.get("get", "/jobs/:id", { params: { id: JobId }, query: Owner, success: Job, error: NotFound })
      )
      .add(
        HttpApiEndpoint.get("result", "/jobs/:id/result", {
          params: { id: JobId },
          query: Owner,
          success: Csv,
          error: NotFound
        })
      )
      .add(
        HttpApiEndpoint.post("createPipeline", "/pipelines", {
          payload: PipelineRequest,
          success: Pipeline.pipe(HttpApiSchema.status(202)),
          error: Forbidden
        })
      )
      .add(
        HttpApiEndpoint.get("getPipeline", "/pipelines/:id", {
          params: { id: JobId },
          query: Owner,
          success: Pipeline,
          error: NotFound
        })
      )
      .add(
        HttpApiEndpoint.get("stats", "/jobs/stats", {
          success: Schema.Struct({ jobs: Schema.Int, pipelines: Schema.Int })
        })
      )
  )
  .middleware(HttpApiMiddleware.ProblemDetails)
  .annotate(HttpApi.ParseOptions, { errors: "all" })
