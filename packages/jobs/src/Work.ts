/**
 * What jobs do. Each function is one durable step of a workflow: it reads from the services
 * that own the data (through their APIs, never their databases) and records progress.
 */
import { Accounts, Ingest, Notifications, Purchases, Users } from "@microbank/contracts"
import * as ServiceClient from "@troupe/runtime/ServiceClient"
import { Context, Effect, Layer, Schema } from "effect"
import { JobsConfig } from "./Config.ts"
import { type JobRow, JobsRepo } from "./JobsRepo.ts"

/** Why a job step failed, in words a user can act on. */
export class JobError extends Schema.TaggedError<JobError>()("JobError", { message: Schema.String }) {}

export const StatementLine = Schema.Struct({
  date: Schema.String,
  type: Schema.String,
  amount: Schema.String,
  balance_after: Schema.String,
  description: Schema.String
})
export type StatementLine = typeof StatementLine.Type
export const StatementPage = Schema.Struct({
  lines: Schema.Array(StatementLine),
  next: Schema.NullOr(Schema.String),
  done: Schema.Boolean
})
export const JobSnapshot = Schema.Struct({
  id: Schema.String,
  kind: Schema.String,
  status: Schema.String,
  params: Schema.Json,
  owner_id: Schema.String,
  owner_role: Schema.String
})
export type JobSnapshot = typeof JobSnapshot.Type

// Quoted when needed; text starting like a formula (=, +, -, @) is quoted too so spreadsheet
// programs do not run it, numbers like -5.25 excepted.
const csvCell = (value: string) =>
  /[",\n\r]/.test(value) || (/^[=+\-@\t]/.test(value) && !/^-?\d+(\.\d+)?$/.test(value))
    ? `"${value.replace(/"/g, '""')}"`
    : value
export const csv = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) =>
  [header, ...rows].map((row) => row.map(csvCell).join(",")).join("\r\n") + "\r\n"

const describe = (error: unknown): string => {
  const e = error as { _tag?: string; title?: string; detail?: string; message?: string; service?: string }
  if (e?._tag === "NotFound") return "the account does not exist or is not yours"
  if (e?._tag === "ServiceUnreachable") return `${e.service} is unavailable`
  return e?.detail ?? e?.title ?? e?.message ?? String(error)
}

const make = Effect.gen(function* () {
  const config = yield* JobsConfig
  const repo = yield* JobsRepo
  const accounts = yield* ServiceClient.make(Accounts.AccountsApi, { service: "accounts", url: config.accountsUrl })
  const ingest = yield* ServiceClient.make(Ingest.IngestApi, { service: "ingest", url: config.ingestUrl })
  const users = yield* ServiceClient.make(Users.UsersApi, { service: "users", url: config.usersUrl })
  const purchases = yield* ServiceClient.make(Purchases.PurchasesApi, {
    service: "purchases",
    url: config.purchasesUrl
  })
  const notifications = yield* ServiceClient.make(Notifications.NotificationsApi, {
    service: "notifications",
    url: config.notificationsUrl
  })
  const call =
    (service: string) =>
    <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      ServiceClient.guard(service)(effect).pipe(Effect.mapError((e) => new JobError({ message: describe(e) })))

  const snapshot = (row: JobRow): JobSnapshot => ({
    id: row.id,
    kind: row.kind,
    status: row.status,
    params: row.params,
    owner_id: row.owner_id,
    owner_role: row.owner_role
  })

  return {
    start: (jobId: string) => Effect.map(Effect.orDie(repo.start(jobId)), snapshot),
    fail: (jobId: string, message: string) => Effect.orDie(repo.fail(jobId, message)),
    succeed: (jobId: string, body: string, total: number) => Effect.orDie(repo.succeed(jobId, "text/csv", body, total)),

    /** One page of an account statement (newest first), filtered to the job's date range. */
    statementPage: (job: JobSnapshot, before: string | null, page: number) =>
      Effect.gen(function* () {
        const params = job.params as { account_id: string; from?: string; to?: string }
        const owner = job.owner_role === "admin" ? undefined : job.owner_id
        const result = yield* call("accounts")(
          accounts.accounts.transactions({
            params: { id: params.account_id },
            query: { owner_id: owner, limit: config.statementPageSize, ...(before ? { before } : {}) }
          })
        )
        const from = params.from ?? "0000-01-01"
        const to = params.to ?? "9999-12-31"
        const inRange = result.items.filter((t) => t.created_at.slice(0, 10) >= from && t.created_at.slice(0, 10) <= to)
        // Newest first: once a page is entirely older than `from`, the statement is complete.
        const olderThanRange =
          result.items.length > 0 && result.items[result.items.length - 1]!.created_at.slice(0, 10) < from
        yield* Effect.orDie(repo.progress(job.id, page + 1, null, `read ${page + 1} page(s) of transactions`))
        return {
          lines: inRange.map((t) => ({
            date: t.created_at,
            type: t.type,
            amount: t.type === "withdrawal" || t.type === "transfer_out" ? `-${t.amount}` : t.amount,
            balance_after: t.balance_after,
            description: t.description ?? ""
          })),
          next: result.next_before,
          done: result.next_before === null || olderThanRange
        }
      }),

    ingestSummary: (job: JobSnapshot) =>
      Effect.gen(function* () {
        const type = (job.params as { type?: string }).type
        const stats = yield* call("ingest")(ingest.ingest.stats())
        const rows = [
          ["total", "all", String(stats.total)],
          ["last_hour", "all", String(stats.last_hour)],
          ...stats.by_type
            .filter((c) => type === undefined || c.name === type)
            .map((c) => ["type", c.name, String(c.count)]),
          ...stats.by_source.map((c) => ["source", c.name, String(c.count)])
        ]
        return csv(["group", "name", "count"], rows)
      }),

    /** One service's counts for an analytics snapshot. */
    analytics: (service: "users" | "accounts" | "notifications" | "purchases" | "ingest") =>
      Effect.gen(function* () {
        switch (service) {
          case "users":
            return [["users", String((yield* call("users")(users.users.stats())).users)]]
          case "accounts": {
            const s = yield* call("accounts")(accounts.accounts.stats())
            return [
              ["accounts", String(s.accounts)],
              ["transactions", String(s.transactions)],
              ["total_balance_minor", String(s.total_balance_minor)]
            ]
          }
          case "notifications":
            return [
              [
                "notifications",
                String((yield* call("notifications")(notifications.notifications.stats())).notifications)
              ]
            ]
          case "purchases":
            return [["purchases", String((yield* call("purchases")(purchases.purchases.stats())).purchases)]]
          case "ingest":
            return [["ingested_records", String((yield* call("ingest")(ingest.ingest.stats())).total)]]
        }
      }),

    pipelineSteps: (pipelineId: string) =>
      Effect.map(Effect.orDie(repo.pipeline(pipelineId)), (p) =>
        p._tag === "Some" ? p.value.steps.map((s) => ({ id: s.id, kind: s.kind })) : []
      ),
    jobOutcome: (jobId: string) =>
      Effect.map(Effect.orDie(repo.job(jobId)), (row) =>
        row._tag === "Some"
          ? { status: row.value.status as string, error: row.value.error }
          : { status: "failed", error: "job not found" }
      ),
    pipelineStatus: (pipelineId: string, status: "running" | "succeeded" | "failed", error: string | null) =>
      Effect.orDie(repo.pipelineStatus(pipelineId, status, error)),
    skipRest: (pipelineId: string, afterStep: number) => Effect.orDie(repo.skipRest(pipelineId, afterStep))
  }
})

export class Work extends Context.Service<Work, Effect.Success<typeof make>>()("jobs/Work") {
  static readonly layer = Layer.effect(this, make).pipe(Layer.provide(ServiceClient.layerHttpClient))
}
