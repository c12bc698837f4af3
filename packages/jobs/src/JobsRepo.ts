// SQL for jobs, pipelines and results. Every state change is idempotent, so a workflow step
// that runs again after a crash changes nothing the first run already did.
import type { Jobs } from "@microbank/contracts"
import { Context, Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"

export interface JobRow {
  readonly id: string
  readonly name: string
  readonly kind: Jobs.JobKind
  readonly params: any
  readonly owner_id: string
  readonly owner_role: "customer" | "admin"
  readonly status: Jobs.JobStatus
  readonly progress_completed: number
  readonly progress_total: number | null
  readonly progress_message: string | null
  readonly error: string | null
  readonly pipeline_id: string | null
  readonly step_index: number | null
  readonly created_at: Date
  readonly started_at: Date | null
  readonly finished_at: Date | null
}

interface PipelineRow {
  readonly id: string
  readonly name: string
  readonly owner_id: string
  readonly status: Jobs.JobStatus
  readonly error: string | null
  readonly created_at: Date
  readonly finished_at: Date | null
}

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString())

export const toJob = (r: JobRow): Jobs.Job => ({
  id: r.id,
  job_name: r.name,
  kind: r.kind,
  params: r.params,
  owner_id: r.owner_id,
  status: r.status,
  progress: { completed: r.progress_completed, total: r.progress_total, message: r.progress_message },
  error: r.error,
  result_url: r.status === "succeeded" ? `/api/jobs/${r.id}/result` : null,
  pipeline_id: r.pipeline_id,
  created_at: new Date(r.created_at).toISOString(),
  started_at: iso(r.started_at),
  finished_at: iso(r.finished_at)
})

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const one = <A>(rows: ReadonlyArray<A>) => Option.fromNullishOr(rows[0])
  const owned = (ownerId: string | undefined) => (ownerId === undefined ? sql`true` : sql`owner_id = ${ownerId}`)

  const job = (id: string, ownerId?: string) =>
    Effect.map(sql<JobRow>`select * from jobs where id = ${id} and ${owned(ownerId)}`, one)

  return {
    insertJob: (row: {
      readonly id: string
      readonly name: string
      readonly kind: string
      readonly params: unknown
      readonly ownerId: string
      readonly ownerRole: string
      readonly pipelineId: string | null
      readonly stepIndex: number | null
    }) =>
      Effect.map(
        sql<JobRow>`
          insert into jobs (id, name, kind, params, owner_id, owner_role, pipeline_id, step_index)
          values (${row.id}, ${row.name}, ${row.kind}, ${JSON.stringify(row.params)}::jsonb, ${row.ownerId}, ${row.ownerRole},
                  ${row.pipelineId}, ${row.stepIndex})
          returning *`,
        (rows) => rows[0]!
      ),
    insertPipeline: (id: string, name: string, ownerId: string) =>
      sql`insert into pipelines (id, name, owner_id) values (${id}, ${name}, ${ownerId})`,
    job,
    jobs: (ownerId: string | undefined) =>
      sql<JobRow>`select * from jobs where ${owned(ownerId)} order by created_at desc, id limit 200`,
    pipeline: (id: string, ownerId?: string) =>
      Effect.gen(function* () {
        const row = one(yield* sql<PipelineRow>`select * from pipelines where id = ${id} and ${owned(ownerId)}`)
        if (Option.isNone(row)) return Option.none()
        const steps = yield* sql<JobRow>`select * from jobs where pipeline_id = ${id} order by step_index`
        const p = row.value
        return Option.some({
          id: p.id,
          pipeline_name: p.name,
          owner_id: p.owner_id,
          status: p.status,
          error: p.error,
          steps: steps.map(toJob),
          created_at: new Date(p.created_at).toISOString(),
          finished_at: iso(p.finished_at)
        })
      }),
    /** queued → running (once); returns the row as it is now. */
    start: (id: string) =>
      Effect.map(
        sql<JobRow>`
          update jobs set status = case when status = 'queued' then 'running' else status end,
                          started_at = coalesce(started_at, now())
          where id = ${id} returning *`,
        (rows) => rows[0]!
      ),
    progress: (id: string, completed: number, total: number | null, message: string) =>
      sql`update jobs set progress_completed = greatest(progress_completed, ${completed}), progress_total = ${total},
                          progress_message = ${message}
          where id = ${id} and status = 'running'`,
    /** running → succeeded with its result (once: a repeated call keeps the first result). */
    succeed: (id: string, contentType: string, body: string, total: number) =>
      sql.withTransaction(
        Effect.gen(function* () {
          yield* sql`insert into job_results (job_id, content_type, body) values (${id}, ${contentType}, ${body})
                     on conflict (job_id) do nothing`
          yield* sql`update jobs set status = 'succeeded', finished_at = coalesce(finished_at, now()),
                                     progress_completed = ${total}, progress_total = ${total}
                     where id = ${id} and status = 'running'`
        })
      ),
    fail: (id: string, error: string) =>
      sql`update jobs set status = 'failed', error = ${error}, finished_at = coalesce(finished_at, now())
          where id = ${id} and status in ('queued', 'running')`,
    skipRest: (pipelineId: string, afterStep: number) =>
      sql`update jobs set status = 'skipped', finished_at = now()
          where pipeline_id = ${pipelineId} and step_index > ${afterStep} and status = 'queued'`,
    pipelineStatus: (id: string, status: "running" | "succeeded" | "failed", error: string | null) =>
      sql`update pipelines set status = ${status}, error = coalesce(error, ${error}),
                               finished_at = case when ${status} = 'running' then null else coalesce(finished_at, now()) end
          where id = ${id} and status not in ('succeeded', 'failed')`,
    result: (id: string, ownerId?: string) =>
      Effect.map(
        sql<{ body: string }>`
          select r.body from job_results r join jobs j on j.id = r.job_id where r.job_id = ${id} and ${
            ownerId === undefined ? sql`true` : sql`j.owner_id = ${ownerId}`
          }`,
        (rows) => Option.map(one(rows), (r) => r.body)
      ),
    stats: Effect.map(
      sql<{ jobs: number; pipelines: number }>`
        select (select count(*)::int from jobs) as jobs, (select count(*)::int from pipelines) as pipelines`,
      (rows) => rows[0]!
    ),
    countsByStatus: sql<{ status: string; n: number }>`select status, count(*)::int as n from jobs group by status`
  }
})

export class JobsRepo extends Context.Service<JobsRepo, Effect.Success<typeof make>>()("jobs/JobsRepo") {
  static readonly layer = Layer.effect(this, make)
}
