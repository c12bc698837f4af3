/**
 * One actor per bank account (`effect/cluster` entity "Account"): every operation on an
 * account goes through its mailbox, one at a time, so operations on one account never
 * interleave while different accounts run in parallel. A transfer runs on the source
 * account's actor. Entity and RPC names are persisted by the cluster: never rename them.
 */
import { Accounts as Contract, Problems } from "@microbank/contracts"
import { Effect, Layer, Schema } from "effect"
import { Entity, SingleRunner } from "effect/cluster"
import { Digest } from "effect/crypto"
import { Rpc } from "effect/rpc"
import { Ledger } from "./Ledger.ts"

const Owner = Schema.optional(Schema.String)
const Idempotency = {
  idempotency_key: Schema.optional(Schema.String),
  idempotency_scope: Schema.optional(Schema.String)
}
const MovementPayload = {
  amount_minor: Schema.Int,
  description: Schema.NullOr(Schema.String),
  owner_id: Owner,
  ...Idempotency
}
const MovementError = Schema.Union([
  Problems.NotFound,
  Problems.AccountClosed,
  Problems.InsufficientFunds,
  Problems.IdempotencyKeyReused
])

export const Deposit = Rpc.make("Deposit", {
  payload: MovementPayload,
  success: Contract.Transaction,
  error: MovementError
})
export const Withdraw = Rpc.make("Withdraw", {
  payload: MovementPayload,
  success: Contract.Transaction,
  error: MovementError
})
export const Transfer = Rpc.make("Transfer", {
  payload: { to_account_id: Schema.String, ...MovementPayload },
  success: Contract.Transfer,
  error: Schema.Union([...MovementError.members, Problems.InvalidOperation])
})
export const Close = Rpc.make("Close", {
  payload: { owner_id: Owner },
  success: Contract.Account,
  error: Schema.Union([Problems.NotFound, Problems.InvalidOperation])
})

export const Account = Entity.make("Account", [Deposit, Withdraw, Transfer, Close])

const movement = (accountId: string, payload: typeof Deposit.payloadSchema.Type) => ({
  accountId,
  amountMinor: payload.amount_minor,
  description: payload.description,
  ownerId: payload.owner_id,
  idempotencyKey: payload.idempotency_key,
  idempotencyScope: payload.idempotency_scope
})

/** The Account actor's behaviour. */
export const AccountLive = Account.toLayer(
  Effect.gen(function* () {
    const ledger = yield* Ledger
    const address = yield* Entity.CurrentAddress
    const id = address.entityId
    return {
      Deposit: ({ payload }) => ledger.deposit(movement(id, payload)),
      Withdraw: ({ payload }) => ledger.withdraw(movement(id, payload)),
      Transfer: ({ payload }) =>
        ledger.transfer({ ...movement(id, payload), fromAccountId: id, toAccountId: payload.to_account_id }),
      Close: ({ payload }) => ledger.close(id, payload.owner_id)
    }
  })
)

/**
 * The cluster the actors run in. One runner per process: entity mailboxes serialize within a
 * process, and the ledger's row locks keep several processes (replicas) correct.
 */
export const cluster = SingleRunner.layer({ runnerStorage: "memory" }).pipe(Layer.provide(Digest.layerWebCrypto))
