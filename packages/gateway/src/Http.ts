/**
 * The public API: authentication, ownership (a customer sees and changes only their own
 * users, accounts and notifications; an admin sees everyone), and routing to the services
 * through typed clients. Downstream problems (404, 409, 422...) pass through unchanged; a
 * service that cannot be reached becomes a 503 naming it, never its internals.
 */
import { Gateway, type Ingest, Money, Problems } from "@microbank/contracts"
import { Metrics, ServiceHost } from "@troupe/runtime"
import * as ServiceClient from "@troupe/runtime/ServiceClient"
import { Effect, Layer, Option } from "effect"
import type { HttpServerRequest } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import * as Auth from "./Auth.ts"
import { Clients } from "./Clients.ts"
import { GatewayConfig } from "./Config.ts"
import { Jwt } from "./Jwt.ts"
import * as Pages from "./Pages.ts"
import * as RateLimiter from "./RateLimiter.ts"
import * as Web from "./Web.ts"

type Caller = Gateway.CurrentUser["Service"]

/** A call to a service behind the gateway: a service that cannot be reached is a 503 naming it. */
const upstream =
  (service: "users" | "accounts" | "notifications" | "ingest" | "jobs" | "purchases") =>
  <A, E>(effect: Effect.Effect<A, E>) =>
    Effect.mapError(ServiceClient.guard(service)(effect), (e) =>
      e instanceof ServiceClient.ServiceUnreachable ? new Problems.ServiceUnavailable({ service }) : e
    ) as Effect.Effect<A, Exclude<E, ServiceClient.TransportFailure> | Problems.ServiceUnavailable>
const viaUsers = upstream("users")
const viaAccounts = upstream("accounts")
const viaNotifications = upstream("notifications")
const viaIngest = upstream("ingest")
const viaJobs = upstream("jobs")
const viaPurchases = upstream("purchases")

const isAdmin = (caller: Caller) => caller.role === "admin"
/** `owner_id` for a downstream call: the caller for customers, nobody for admins. */
const ownerOf = (caller: Caller) => (isAdmin(caller) ? undefined : caller.id)
const forbidden = (detail: string) => Effect.fail(new Problems.Forbidden({ detail }))

const clientAddress = (request: HttpServerRequest.HttpServerRequest, trustProxy: boolean): string => {
  const forwarded = trustProxy ? request.headers["x-forwarded-for"]?.split(",")[0]?.trim() : undefined
  return forwarded || Option.getOrElse(request.remoteAddress, () => "unknown")
}

const AuthHandlers = HttpApiBuilder.group(Gateway.GatewayApi, "auth", (handlers) =>
  Effect.gen(function* () {
    const { users } = yield* Clients
    const jwt = yield* Jwt
    const config = yield* GatewayConfig
    const metrics = yield* Metrics.Metrics
    const limited = metrics.counter("microbank_rate_limited_total", "Requests refused by a rate limit, by limit", [
      "limit"
    ])
    Metrics.startAtZero(limited, { limit: ["login_address", "login_username", "register_address"] })
    const perAddress = RateLimiter.make(config.authLimitPerMinute)
    const perUsername = RateLimiter.make(config.loginLimitPerMinute)
    const limit = (bucket: RateLimiter.Bucket, key: string, name: string) =>
      bucket.take(key).pipe(
        Effect.catch((seconds) => {
          limited.inc({ limit: name })
          return Effect.fail(new Problems.RateLimited({ retry_after_seconds: seconds }))
        })
      )
    return handlers
      .handle("login", ({ payload, request }) =>
        Effect.gen(function* () {
          yield* limit(perAddress, clientAddress(request, config.trustProxy), "login_address")
          yield* limit(perUsername, payload.username.toLowerCase(), "login_username")
          const user = yield* viaUsers(users.users.verifyPassword({ payload }))
          const { token, expiresIn } = yield* jwt.sign({ sub: user.id, username: user.username, role: user.role })
          return { access_token: token, token_type: "bearer" as const, expires_in: expiresIn }
        })
      )
      .handle("register", ({ payload, request }) =>
        Effect.gen(function* () {
          yield* limit(perAddress, clientAddress(request, config.trustProxy), "register_address")
          return yield* viaUsers(users.users.create({ payload: { ...payload, role: "customer" } }))
        })
      )
  })
)

const MeHandlers = HttpApiBuilder.group(Gateway.GatewayApi, "me", (handlers) =>
  Effect.gen(function* () {
    const { users } = yield* Clients
    return handlers.handle("me", () =>
      Gateway.CurrentUser.use((caller) => viaUsers(users.users.get({ params: { id: caller.id } })))
    )
  })
)

const UsersHandlers = HttpApiBuilder.group(Gateway.GatewayApi, "users", (handlers) =>
  Effect.gen(function* () {
    const { users } = yield* Clients
    return handlers
      .handle("create", ({ payload }) =>
        Effect.gen(function* () {
          const caller = yield* Gateway.CurrentUser
          if (!isAdmin(caller))
            return yield* forbidden("only admins create users; customers register at /api/auth/register")
          return yield* viaUsers(users.users.create({ payload }))
        })
      )
      .handle("list", ({ query }) =>
        Effect.gen(function* () {
          const caller = yield* Gateway.CurrentUser
          if (isAdmin(caller)) return yield* viaUsers(users.users.list({ query }))
          return [yield* viaUsers(users.users.get({ params: { id: caller.id } })).pipe(Effect.orDie)]
        })
      )
      .handle("get", ({ params }) =>
        Effect.gen(function* () {
          const caller = yield* Gateway.CurrentUser
          if (!isAdmin(caller) && params.id !== caller.id) {
            return yield* new Problems.NotFound({ resource: "user", id: params.id })
          }
          return yield* viaUsers(users.users.get({ params }))
        })
      )
  })
)

const AccountsHandlers = HttpApiBuilder.group(Gateway.GatewayApi, "accounts", (handlers) =>
  Effect.gen(function* () {
    const { accounts, users } = yield* Clients
    const idempotency = (caller: Caller, key: string | undefined) => ({
      idempotency_key: key,
      idempotency_scope: key === undefined ? undefined : caller.id
    })
    const move = (
      kind: "deposit" | "withdraw",
      accountId: string,
      amount: string | number,
      description: string | null | undefined,
      key: string | undefined
    ) =>
      Effect.gen(function* () {
        const caller = yield* Gateway.CurrentUser
        const payload = {
          amount_minor: Money.toMinor(amount),
          description: description ?? null,
          owner_id: ownerOf(caller),
          ...idempotency(caller, key)
        }
        return yield* viaAccounts(
          kind === "deposit"
            ? accounts.accounts.deposit({ params: { id: accountId }, payload })
            : accounts.accounts.withdraw({ params: { id: accountId }, payload })
        )
      })
    return handlers
      .handle("create", ({ payload, headers }) =>
        Effect.gen(function* () {
          const caller = yield* Gateway.CurrentUser
          const userId = payload.user_id ?? caller.id
          if (!isAdmin(caller) && userId !== caller.id)
            return yield* forbidden("customers open accounts only for themselves")
          if (userId !== caller.id) yield* viaUsers(users.users.get({ params: { id: userId } }))
          return yield* viaAccounts(
            accounts.accounts.create({
              payload: {
                user_id: userId,
                account_type: payload.account_type,
                initial_deposit_minor:
                  payload.initial_deposit === undefined ? undefined : Money.toMinor(payload.initial_deposit),
                ...idempotency(caller, headers["idempotency-key"])
              }
            })
          )
        })
      )
      .handle("list", ({ query }) =>
        Effect.gen(function* () {
          const caller = yield* Gateway.CurrentUser
          if (!isAdmin(caller) && query.user_id !== undefined && query.user_id !== caller.id) {
            return yield* forbidden("customers list only their own accounts")
          }
          return yield* viaAccounts(
            accounts.accounts.list({ query: { user_id: isAdmin(caller) ? query.user_id : caller.id } })
          )
        })
      )
      .handle("get", ({ params }) =>
        Gateway.CurrentUser.use((caller) =>
          viaAccounts(accounts.accounts.get({ params, query: { owner_id: ownerOf(caller) } }))
        )
      )
      .handle("close", ({ params }) =>
        Gateway.CurrentUser.use((caller) =>
          viaAccounts(accounts.accounts.close({ params, payload: { owner_id: ownerOf(caller) } }))
        )
      )
      .handle("deposit", ({ params, payload, headers }) =>
        move("deposit", params.id, payload.amount, payload.description, headers["idempotency-key"])
      )
      .handle("withdraw", ({ params, payload, headers }) =>
        move("withdraw", params.id, payload.amount, payload.description, headers["idempotency-key"])
      )
      .handle("transaction", ({ payload, headers }) =>
        move(
          payload.type === "deposit" ? "deposit" : "withdraw",
          payload.account_id,
          payload.amount,
          payload.description,
          headers["idempotency-key"]
        )
      )
      .handle("transfer", ({ payload, headers }) =>
        Effect.gen(function* () {
          const caller = yield* Gateway.CurrentUser
          const transfer = yield* viaAccounts(
            accounts.accounts.transfer({
              payload: {
                from_account_id: payload.from_account_id,
                to_account_id: payload.to_account_id,
                amount_minor: Money.toMinor(payload.amount),
                description: payload.description ?? null,
                owner_id: ownerOf(caller),
                ...idempotency(caller, headers["idempotency-key"])
              }
            })
          )
          // A customer paying someone else must not learn that account's balance.
          if (isAdmin(caller)) return transfer
          const theirs = yield* viaAccounts(
            accounts.accounts.get({ params: { id: payload.to_account_id }, query: { owner_id: caller.id } })
          ).pipe(
            Effect.as(false),
            Effect.catchTag("NotFound", () => Effect.succeed(true))
          )
          return theirs ? { ...transfer, credit: { ...transfer.credit, balance_after: null } } : transfer
        })
      )
      .handle("transactions", ({ params, query }) =>
        Gateway.CurrentUser.use((caller) =>
          viaAccounts(accounts.accounts.transactions({ params, query: { ...query, owner_id: ownerOf(caller) } }))
        )
      )
  })
)

const NotificationsHandlers = HttpApiBuilder.group(Gateway.GatewayApi, "notifications", (handlers) =>
  Effect.gen(function* () {
    const { notifications } = yield* Clients
    return handlers.handle("list", ({ query }) =>
      Effect.gen(function* () {
        const caller = yield* Gateway.CurrentUser
        if (!isAdmin(caller) && query.user_id !== undefined && query.user_id !== caller.id) {
          return yield* forbidden("customers see only their own notifications")
        }
        return yield* viaNotifications(
          notifications.notifications.list({
            query: { ...query, user_id: isAdmin(caller) ? query.user_id : caller.id }
          })
        )
      })
    )
  })
)

const IngestHandlers = HttpApiBuilder.group(Gateway.GatewayApi, "ingest", (handlers) =>
  Effect.gen(function* () {
    const { ingest, users, accounts, notifications, jobs, purchases } = yield* Clients
    // a retry with the same Idempotency-Key gets the same record ids: the key is the caller's
    const accept = (records: ReadonlyArray<Ingest.NewRecord>, key: string | undefined) =>
      Effect.gen(function* () {
        const caller = yield* Gateway.CurrentUser
        return yield* viaIngest(
          ingest.ingest.ingest({
            payload: { records, idempotency_key: key, idempotency_scope: key === undefined ? undefined : caller.id }
          })
        )
      })
    return handlers
      .handle("ingest", ({ payload, headers }) =>
        accept(Array.isArray(payload) ? payload : [payload], headers["idempotency-key"])
      )
      .handle("batch", ({ payload, headers }) => accept(payload.records, headers["idempotency-key"]))
      .handle("stats", () => viaIngest(ingest.ingest.stats()))
      .handle("recent", ({ query }) => viaIngest(ingest.ingest.recent({ query })))
      .handle("summary", () =>
        Effect.gen(function* () {
          const caller = yield* Gateway.CurrentUser
          if (!isAdmin(caller)) return yield* forbidden("the analytics summary is for admins")
          // Each number comes from the service that owns it, in parallel.
          const [u, a, n, i, j, p] = yield* Effect.all(
            [
              viaUsers(users.users.stats()),
              viaAccounts(accounts.accounts.stats()),
              viaNotifications(notifications.notifications.stats()),
              viaIngest(ingest.ingest.stats()),
              viaJobs(jobs.jobs.stats()),
              viaPurchases(purchases.purchases.stats())
            ],
            { concurrency: "unbounded" }
          )
          return {
            users: u.users,
            accounts: a.accounts,
            transactions: a.transactions,
            total_balance: Money.format(a.total_balance_minor),
            notifications: n.notifications,
            purchases: p.purchases,
            ingested_records: i.total,
            jobs: j.jobs,
            generated_at: new Date().toISOString()
          }
        })
      )
  })
)

const JobsHandlers = HttpApiBuilder.group(Gateway.GatewayApi, "jobs", (handlers) =>
  Effect.gen(function* () {
    const { jobs } = yield* Clients
    return handlers
      .handle("create", ({ payload }) =>
        Effect.gen(function* () {
          const me = yield* Gateway.CurrentUser
          const { job_name, ...spec } = payload
          return yield* viaJobs(
            jobs.jobs.create({ payload: { job_name, spec: spec as never, owner_id: me.id, owner_role: me.role } })
          )
        })
      )
      .handle("list", () =>
        Gateway.CurrentUser.use((me) => viaJobs(jobs.jobs.list({ query: { owner_id: ownerOf(me) } })))
      )
      .handle("get", ({ params }) =>
        Gateway.CurrentUser.use((me) => viaJobs(jobs.jobs.get({ params, query: { owner_id: ownerOf(me) } })))
      )
      .handle("result", ({ params }) =>
        Gateway.CurrentUser.use((me) => viaJobs(jobs.jobs.result({ params, query: { owner_id: ownerOf(me) } })))
      )
      .handle("createPipeline", ({ payload }) =>
        Effect.gen(function* () {
          const me = yield* Gateway.CurrentUser
          return yield* viaJobs(
            jobs.jobs.createPipeline({
              payload: {
                pipeline_name: payload.pipeline_name,
                steps: payload.steps.map(({ job_name, ...spec }) => ({
                  ...(job_name === undefined ? {} : { job_name }),
                  spec: spec as never
                })),
                owner_id: me.id,
                owner_role: me.role
              }
            })
          )
        })
      )
      .handle("getPipeline", ({ params }) =>
        Gateway.CurrentUser.use((me) => viaJobs(jobs.jobs.getPipeline({ params, query: { owner_id: ownerOf(me) } })))
      )
  })
)

const PurchasesHandlers = HttpApiBuilder.group(Gateway.GatewayApi, "purchases", (handlers) =>
  Effect.gen(function* () {
    const { purchases } = yield* Clients
    const list = (userid: string) =>
      Effect.gen(function* () {
        const me = yield* Gateway.CurrentUser
        if (!isAdmin(me) && userid !== me.id) return yield* forbidden("customers see only their own purchases")
        return yield* viaPurchases(purchases.purchases.list({ params: { userid } }))
      })
    return handlers
      .handle("buy", ({ payload, headers }) =>
        Effect.gen(function* () {
          const me = yield* Gateway.CurrentUser
          if (!isAdmin(me) && (payload.userid !== me.id || payload.username !== me.username)) {
            return yield* forbidden("customers buy only as themselves: userid and username must be yours")
          }
          return yield* viaPurchases(
            purchases.purchases.buy({
              payload: {
                username: payload.username,
                userid: payload.userid,
                price_minor: Money.toMinor(payload.price),
                idempotency_key: headers["idempotency-key"]
              }
            })
          )
        })
      )
      .handle("list", ({ params }) => list(params.userid))
      .handle("getAllUserBuys", ({ params }) => list(params.userid))
  })
)

export const layer = ServiceHost.layer({
  name: "gateway",
  version: "1.0.0",
  port: 8080,
  // Batch ingestion (up to 5 000 records) passes through.
  maxBodyBytes: 5 * 1024 * 1024,
  api: Gateway.GatewayApi,
  routes: Layer.mergeAll(Web.routes, Pages.routes)
}).pipe(
  Layer.provide(
    Layer.mergeAll(
      AuthHandlers,
      MeHandlers,
      UsersHandlers,
      AccountsHandlers,
      NotificationsHandlers,
      IngestHandlers,
      JobsHandlers,
      PurchasesHandlers
    )
  ),
  Layer.provide(Auth.layer),
  // Documents the body problems the service host answers with; nothing to do per request.
  Layer.provide(Layer.succeed(Gateway.RequestBody, (effect) => effect)),
  Layer.provide(Layer.mergeAll(Clients.layer, Jwt.layer))
)
