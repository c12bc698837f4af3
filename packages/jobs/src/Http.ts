// The jobs service's HTTP API: creating a job or pipeline stores it and starts its workflow.
import { Jobs as Contract, Problems } from "@microbank/contracts"
import { Actor, Metrics, ServiceHost } from "@troupe/runtime"
import * as Id from "@troupe/runtime/Id"
import { Effect, Layer, Option } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { SqlClient } from "effect/sql"
import { WorkflowEngine } from "effect/workflow"
import { JobsRepo, toJob } from "./JobsRepo.ts"
import { RunJob, RunPipeline } from "./Workflows.ts"

const adminOnly: ReadonlyArray<Contract.JobKind> = ["analytics_snapshot"]

const Handlers = HttpApiBuilder.group(Contract.JobsApi, "jobs", (handlers) =>
  Effect.gen(function* () {
    const repo = yield* JobsRepo
    const sql = yield* SqlClient.SqlClient
    const started = (yield* Metrics.Metrics).counter("microbank_jobs_started_total", "Jobs started, by kind", ["kind"])
    Metrics.startAtZero(started, { kind: Contract.jobKinds })
    const engine = yield* WorkflowEngine.WorkflowEngine
    const start = <A, E>(effect: Effect.Effect<A, E, WorkflowEngine.WorkflowEngine>) =>
      Effect.provideService(effect, WorkflowEngine.WorkflowEngine, engine)
    const notFound = (resource: string, id: string) => new Problems.NotFound({ resource, id })
    const allowed = (spec: Contract.JobSpec, role: string) =>
      adminOnly.includes(spec.kind) && role !== "admin"
        ? Effect.fail(new Problems.Forbidden({ detail: `only admins run ${spec.kind} jobs` }))
        : Effect.void
    return handlers
      .handle("create", ({ payload }) =>
        Effect.gen(function* () {
          yield* allowed(payload.spec, payload.owner_role)
          const row = yield* Effect.orDie(
            repo.insertJob({
              id: Id.uuidv7(),
              name: payload.job_name,
              kind: payload.spec.kind,
              params: payload.spec.params,
              ownerId: payload.owner_id,
              ownerRole: payload.owner_role,
              pipelineId: null,
              stepIndex: null
            })
          )
          yield* start(RunJob.execute({ job_id: row.id }, { discard: true }))
          started.inc({ kind: row.kind })
          return toJob(row)
        })
      )
      .handle("list", ({ query }) => Effect.orDie(Effect.map(repo.jobs(query.owner_id), (rows) => rows.map(toJob))))
      .handle("get", ({ params, query }) =>
        Effect.flatMap(Effect.orDie(repo.job(params.id, query.owner_id)), (row) =>
          Option.isSome(row) ? Effect.succeed(toJob(row.value)) : Effect.fail(notFound("job", params.id))
        )
      )
      .handle("result", ({ params, query }) =>
        Effect.flatMap(Effect.orDie(repo.result(params.id, query.owner_id)), (body) =>
          Option.isSome(body) ? Effect.succeed(body.value) : Effect.fail(notFound("job result", params.id))
        )
      )
      .handle("createPipeline", ({ payload }) =>
        Effect.gen(function* () {
          for (const step of payload.steps) yield* allowed(step.spec, payload.owner_role)
          const id = Id.uuidv7()
          yield* Effect.orDie(
            sql.withTransaction(
              Effect.gen(function* () {
                yield* repo.insertPipeline(id, payload.pipeline_name, payload.owner_id)
                for (const [index, step] of payload.steps.entries()) {
                  yield* repo.insertJob({
                    id: Id.uuidv7(),
                    name: step.job_name ?? `${payload.pipeline_name} #${index + 1}`,
                    kind: step.spec.kind,
                    params: step.spec.params,
                    ownerId: payload.owner_id,
                    ownerRole: payload.owner_role,
                    pipelineId: id,
                    stepIndex: index
                  })
                }
              })
            )
          )
          yield* start(RunPipeline.execute({ pipeline_id: id }, { discard: true }))
          const pipeline = yield* Effect.orDie(repo.pipeline(id))
          return Option.getOrThrow(pipeline)
        })
      )
      .handle("getPipeline", ({ params, query }) =>
        Effect.flatMap(Effect.orDie(repo.pipeline(params.id, query.owner_id)), (p) =>
          Option.isSome(p) ? Effect.succeed(p.value) : Effect.fail(notFound("pipeline", params.id))
        )
      )
      .handle("stats", () => Effect.orDie(repo.stats))
  })
)

/** `microbank_jobs{status}`: how many jobs are in each state, refreshed every 15 s. */
export const JobGauges = Actor.layer("job-gauges", (ready) =>
  Effect.gen(function* () {
    const repo = yield* JobsRepo
    const gauge = (yield* Metrics.Metrics).gauge("microbank_jobs", "Jobs by state", ["status"])
    yield* ready
    while (true) {
      const counts = yield* repo.countsByStatus
      for (const status of Contract.JobStatus.literals)
        gauge.set({ status }, counts.find((c) => c.status === status)?.n ?? 0)
      yield* Effect.sleep("15 seconds")
    }
  })
)

export const layer = ServiceHost.layer({ name: "jobs", version: "1.0.0", port: 8086, api: Contract.JobsApi }).pipe(
  Layer.provide(Handlers)
)
