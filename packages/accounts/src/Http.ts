// The accounts service's HTTP API: reads go to the ledger, changes through the Account actors.
import { Accounts as Contract } from "@microbank/contracts"
import { ServiceHost } from "@troupe/runtime"
import { Effect, Layer } from "effect"
import type { ClusterError } from "effect/cluster"
import { HttpApiBuilder } from "effect/http-api"
import { Account } from "./AccountEntity.ts"
import { Ledger } from "./Ledger.ts"

type MailboxError =
  | ClusterError.MailboxFull
  | ClusterError.AlreadyProcessingMessage
  | ClusterError.PersistenceError
  | ClusterError.EntityNotAssignedToRunner

const clusterTags = new Set([
  "MailboxFull",
  "AlreadyProcessingMessage",
  "PersistenceError",
  "EntityNotAssignedToRunner"
])

// Failures of the actor system itself (not of the operation) are outages or bugs: 500, logged.
const orDieCluster = <A, E extends { readonly _tag: string }>(
  effect: Effect.Effect<A, E>
): Effect.Effect<A, Exclude<E, MailboxError>> =>
  Effect.catchIf(effect, (e) => clusterTags.has(e._tag), Effect.die) as Effect.Effect<A, Exclude<E, MailboxError>>

const Handlers = HttpApiBuilder.group(Contract.AccountsApi, "accounts", (handlers) =>
  Effect.gen(function* () {
    const ledger = yield* Ledger
    const account = yield* Account.client

    return handlers
      .handle("create", ({ payload }) =>
        ledger.open({
          userId: payload.user_id,
          accountType: payload.account_type,
          initialDepositMinor: payload.initial_deposit_minor,
          idempotencyKey: payload.idempotency_key,
          idempotencyScope: payload.idempotency_scope
        })
      )
      .handle("list", ({ query }) => ledger.list(query.user_id))
      .handle("get", ({ params, query }) => ledger.get(params.id, query.owner_id))
      .handle("close", ({ params, payload }) => orDieCluster(account(params.id).Close({ owner_id: payload.owner_id })))
      .handle("deposit", ({ params, payload }) =>
        orDieCluster(account(params.id).Deposit({ ...payload, description: payload.description ?? null }))
      )
      .handle("withdraw", ({ params, payload }) =>
        orDieCluster(account(params.id).Withdraw({ ...payload, description: payload.description ?? null }))
      )
      .handle("transfer", ({ payload }) =>
        orDieCluster(
          account(payload.from_account_id).Transfer({
            to_account_id: payload.to_account_id,
            amount_minor: payload.amount_minor,
            description: payload.description ?? null,
            owner_id: payload.owner_id,
            idempotency_key: payload.idempotency_key,
            idempotency_scope: payload.idempotency_scope
          })
        )
      )
      .handle("transactions", ({ params, query }) =>
        ledger.history(params.id, query.owner_id, query.limit ?? 20, query.before)
      )
      .handle("stats", () => ledger.stats)
  })
)

export const layer = ServiceHost.layer({
  name: "accounts",
  version: "1.0.0",
  port: 8082,
  api: Contract.AccountsApi
}).pipe(Layer.provide(Handlers))
