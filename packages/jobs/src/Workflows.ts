/**
 * Jobs and pipelines as durable workflows (`effect/workflow` on the `effect/cluster` engine,
 * state in the jobs database). Each step is an activity whose result is stored: when the
 * process dies mid-job, the workflow resumes after restart, replays the steps that finished
 * and runs the rest — the job completes once. Workflow and activity names are persisted:
 * never rename them.
 */
import { Effect, Exit, Layer, Schema } from "effect"
import { ClusterWorkflowEngine, SingleRunner } from "effect/cluster"
import { Digest } from "effect/crypto"
import { Activity, Workflow } from "effect/workflow"
import { csv, JobError, JobSnapshot, type StatementLine, StatementPage, Work } from "./Work.ts"

export const RunJob = Workflow.make("RunJob", {
  payload: { job_id: Schema.String },
  idempotencyKey: ({ job_id }) => job_id
})

export const RunPipeline = Workflow.make("RunPipeline", {
  payload: { pipeline_id: Schema.String },
  idempotencyKey: ({ pipeline_id }) => pipeline_id
})

// Transient failures (a service restarting) are retried before the job is declared failed.
const step = <A, I>(name: string, success: Schema.Codec<A, I>, execute: Effect.Effect<A, JobError>) =>
  Activity.make({ name, success, error: JobError, execute }).pipe(Activity.retry({ times: 4 }))

const RunJobLive = RunJob.toLayer(
  Effect.fn(function* ({ job_id }) {
    const work = yield* Work
    const job = yield* Activity.make({ name: "start", success: JobSnapshot, execute: work.start(job_id) })
    if (job.status !== "running") return
    const run = Effect.gen(function* () {
      switch (job.kind) {
        case "account_statement": {
          const lines: Array<StatementLine> = []
          let before: string | null = null
          for (let page = 0; ; page++) {
            const result: typeof StatementPage.Type = yield* step(
              `page-${page}`,
              StatementPage,
              work.statementPage(job, before, page)
            )
            lines.push(...result.lines)
            if (result.done) break
            before = result.next
          }
          const body = csv(
            ["date", "type", "amount", "balance_after", "description"],
            lines.map((l) => [l.date, l.type, l.amount, l.balance_after, l.description])
          )
          yield* Activity.make({ name: "finish", execute: work.succeed(job_id, body, lines.length) })
          return
        }
        case "ingest_summary": {
          const body = yield* step("summary", Schema.String, work.ingestSummary(job))
          yield* Activity.make({ name: "finish", execute: work.succeed(job_id, body, 1) })
          return
        }
        case "analytics_snapshot": {
          const rows: Array<ReadonlyArray<string>> = []
          for (const service of ["users", "accounts", "notifications", "purchases", "ingest"] as const) {
            rows.push(
              ...(yield* step(`count-${service}`, Schema.Array(Schema.Array(Schema.String)), work.analytics(service)))
            )
          }
          yield* Activity.make({
            name: "finish",
            execute: work.succeed(job_id, csv(["metric", "value"], rows), rows.length)
          })
          return
        }
        default:
          return yield* new JobError({ message: `unknown job kind "${job.kind}"` })
      }
    })
    const exit = yield* Effect.exit(run)
    if (Exit.isFailure(exit)) {
      const failure = exit.cause.reasons.find((r) => r._tag === "Fail")
      const message =
        failure && failure._tag === "Fail" ? (failure.error as JobError).message : "the job stopped unexpectedly"
      yield* Activity.make({ name: "fail", execute: work.fail(job_id, message) })
    }
  })
)

const RunPipelineLive = RunPipeline.toLayer(
  Effect.fn(function* ({ pipeline_id }) {
    const work = yield* Work
    const steps = yield* Activity.make({
      name: "steps",
      success: Schema.Array(Schema.Struct({ id: Schema.String, kind: Schema.String })),
      execute: work.pipelineSteps(pipeline_id)
    })
    yield* Activity.make({ name: "running", execute: work.pipelineStatus(pipeline_id, "running", null) })
    for (const [index, job] of steps.entries()) {
      yield* RunJob.execute({ job_id: job.id })
      const outcome = yield* Activity.make({
        name: `outcome-${index}`,
        success: Schema.Struct({ status: Schema.String, error: Schema.NullOr(Schema.String) }),
        execute: work.jobOutcome(job.id)
      })
      if (outcome.status !== "succeeded") {
        const reason = `step ${index + 1} (${job.kind}) failed: ${outcome.error ?? outcome.status}`
        yield* Activity.make({
          name: "failed",
          execute: Effect.andThen(work.skipRest(pipeline_id, index), work.pipelineStatus(pipeline_id, "failed", reason))
        })
        return
      }
    }
    yield* Activity.make({ name: "succeeded", execute: work.pipelineStatus(pipeline_id, "succeeded", null) })
  })
)

/** The workflows, their engine, and the single-runner cluster that stores their state. */
export const layer = Layer.mergeAll(RunJobLive, RunPipelineLive).pipe(
  Layer.provideMerge(ClusterWorkflowEngine.layer),
  Layer.provideMerge(SingleRunner.layer({ runnerStorage: "memory" })),
  Layer.provide(Digest.layerWebCrypto)
)
