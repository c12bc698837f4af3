/**
 * The smallest complete Troupe service: a task queue.
 *
 * `POST /api/v1/tasks` stores a task and, in the same transaction, a `task.submitted`
 * message in the outbox. The relay publishes it to the `tasks` work queue; a supervised
 * consumer "works" on it for `workMs` and marks it done, exactly once (inbox). The API
 * can long-poll a task until it is done. Runs embedded (PGlite + in-process broker) or
 * against PostgreSQL and RabbitMQ (`DATABASE_URL`, `AMQP_URL`), on Node 24 or Deno 2.
 *
 *   node packages/runtime/example/tasks.ts
 *   curl -XPOST localhost:8080/api/v1/tasks -H 'content-type: application/json' -d '{"title":"hello","workMs":500}'
 */
import { Clock, Effect, Layer, Option, Schema } from "effect"
import {
  HttpApi,
  HttpApiBuilder,
  HttpApiEndpoint,
  HttpApiError,
  HttpApiGroup,
  HttpApiMiddleware
} from "effect/http-api"
import { SqlClient } from "effect/sql"
import { Consumer, Database, Inbox, Message, Messaging, Outbox, ServiceHost, WorkQueue } from "../src/index.ts"

// --- contract -------------------------------------------------------------
const TaskId = Schema.String.check(Schema.isUUID())
const Status = Schema.Literals(["queued", "running", "done"])
export const Task = Schema.Struct({
  id: TaskId,
  title: Schema.String,
  workMs: Schema.Int,
  status: Status,
  createdAt: Schema.String,
  doneAt: Schema.NullOr(Schema.String)
})
const NewTask = Schema.Struct({
  title: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200)),
  workMs: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 10_000 }))
})
class TaskNotFound extends HttpApiError.Problem<TaskNotFound>()(
  "TaskNotFound",
  { type: "https://troupe.dev/problems/task-not-found", status: 404, title: "Task not found" },
  { id: Schema.String }
) {}

export const TasksApi = HttpApi.make("tasks")
  .add(
    HttpApiGroup.make("tasks")
      .add(
        HttpApiEndpoint.post("submit", "/api/v1/tasks", {
          payload: NewTask,
          success: Task.pipe(Schema.annotate({ httpApiStatus: 202 }))
        })
      )
      .add(
        HttpApiEndpoint.get("get", "/api/v1/tasks/:id", {
          params: { id: TaskId },
          query: {
            waitMs: Schema.optional(Schema.NumberFromString.check(Schema.isBetween({ minimum: 0, maximum: 30_000 })))
          },
          success: Task,
          error: TaskNotFound
        })
      )
      .add(HttpApiEndpoint.get("list", "/api/v1/tasks", { success: Schema.Array(Task) }))
  )
  .middleware(HttpApiMiddleware.ProblemDetails)

const TaskSubmitted = Message.make("task.submitted", Schema.Struct({ id: Schema.String, workMs: Schema.Int }), {
  key: (t) => t.id
})
const TaskQueue = WorkQueue.make("tasks", [TaskSubmitted])

// --- database ---------------------------------------------------------------
const migrations: Database.Migrations = {
  "0001_create_tasks": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      create table tasks (
        id uuid primary key,
        title text not null,
        work_ms int not null,
        status text not null default 'queued',
        created_at timestamptz not null default now(),
        done_at timestamptz
      )`
  })
}

interface Row {
  readonly id: string
  readonly title: string
  readonly work_ms: number
  readonly status: "queued" | "running" | "done"
  readonly created_at: Date
  readonly done_at: Date | null
}
const toTask = (r: Row): typeof Task.Type => ({
  id: r.id,
  title: r.title,
  workMs: r.work_ms,
  status: r.status,
  createdAt: new Date(r.created_at).toISOString(),
  doneAt: r.done_at ? new Date(r.done_at).toISOString() : null
})

// --- handlers ----------------------------------------------------------------
const find = (id: string) =>
  SqlClient.SqlClient.use((sql) =>
    Effect.map(sql<Row>`select * from tasks where id = ${id}`, (rows) => Option.fromNullishOr(rows[0]))
  )

const TasksHandlers = HttpApiBuilder.group(TasksApi, "tasks", (handlers) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return handlers
      .handle("submit", ({ payload }) =>
        sql
          .withTransaction(
            Effect.gen(function* () {
              const id = crypto.randomUUID()
              const [row] = yield* sql<Row>`
                insert into tasks (id, title, work_ms) values (${id}, ${payload.title}, ${payload.workMs}) returning *`
              yield* Outbox.publish(TaskQueue, TaskSubmitted, { id, workMs: payload.workMs })
              return toTask(row!)
            })
          )
          .pipe(Effect.orDie)
      )
      .handle("get", ({ params, query }) =>
        Effect.gen(function* () {
          const deadline = (yield* Clock.currentTimeMillis) + (query.waitMs ?? 0)
          while (true) {
            const row = yield* Effect.orDie(find(params.id))
            if (Option.isNone(row)) return yield* new TaskNotFound({ id: params.id })
            if (row.value.status === "done" || (yield* Clock.currentTimeMillis) >= deadline) return toTask(row.value)
            yield* Effect.sleep("50 millis")
          }
        }).pipe(Effect.provideService(SqlClient.SqlClient, sql))
      )
      .handle("list", () =>
        Effect.orDie(
          Effect.map(sql<Row>`select * from tasks order by created_at desc limit 100`, (rows) => rows.map(toTask))
        )
      )
  })
)

const Worker = Consumer.layer({
  from: TaskQueue,
  concurrency: 4,
  handle: Inbox.dedupe("tasks-worker", (batch) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      for (const task of batch) {
        yield* sql`update tasks set status = 'running' where id = ${task.payload.id}`
        yield* Effect.sleep(task.payload.workMs)
        yield* sql`update tasks set status = 'done', done_at = now() where id = ${task.payload.id}`
      }
    })
  )
})

// --- wiring --------------------------------------------------------------------
export const Service = ServiceHost.layer({ name: "tasks", version: "1.0.0", port: 8080, api: TasksApi }).pipe(
  Layer.provide(TasksHandlers),
  Layer.provide(Layer.mergeAll(Worker, Outbox.relay(), Inbox.retention())),
  Layer.provide(Messaging.layer),
  Layer.provide(Database.layer({ service: "tasks", migrations })),
  ServiceHost.provide("tasks")
)

if (import.meta.main) ServiceHost.run(Service)
