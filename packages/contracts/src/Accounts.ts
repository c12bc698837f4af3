/**
 * The accounts service: its internal HTTP API (called by the gateway) and its events.
 *
 * Every mutating call can carry an `owner_id`: the service then acts only if the account
 * belongs to that user (else `NotFound`, so other customers' accounts do not even appear to
 * exist). Admin calls omit it. `idempotency_key` (with its `idempotency_scope`, the caller's
 * user id) makes a retried request return the first result instead of acting twice.
 */
import { Message } from "@troupe/runtime"
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema } from "effect/http-api"
import { MinorUnits } from "./Money.ts"
import {
  AccountClosed,
  Conflict,
  IdempotencyKeyReused,
  InsufficientFunds,
  InvalidOperation,
  NotFound
} from "./Problems.ts"

export const AccountId = Schema.String.check(Schema.isUUID())
export const AccountType = Schema.Literals(["checking", "savings"])
export const AccountStatus = Schema.Literals(["open", "closed"])
export const TransactionType = Schema.Literals(["deposit", "withdrawal", "transfer_in", "transfer_out"])
export type TransactionType = typeof TransactionType.Type

export const Account = Schema.Struct({
  id: AccountId,
  user_id: Schema.String,
  account_type: AccountType,
  status: AccountStatus,
  balance: Schema.String,
  balance_minor: Schema.Int,
  currency: Schema.String,
  created_at: Schema.String
})
export type Account = typeof Account.Type

export const Transaction = Schema.Struct({
  id: Schema.String,
  account_id: AccountId,
  type: TransactionType,
  amount: Schema.String,
  amount_minor: Schema.Int,
  balance_after: Schema.String,
  counterparty_account_id: Schema.NullOr(Schema.String),
  transfer_id: Schema.NullOr(Schema.String),
  description: Schema.NullOr(Schema.String),
  created_at: Schema.String
})
export type Transaction = typeof Transaction.Type

export const Transfer = Schema.Struct({
  transfer_id: Schema.String,
  from_account_id: AccountId,
  to_account_id: AccountId,
  amount: Schema.String,
  amount_minor: Schema.Int,
  debit: Transaction,
  credit: Transaction
})
export type Transfer = typeof Transfer.Type

const Description = Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(140))))
const Owner = Schema.optional(Schema.String)
const Idempotency = {
  idempotency_key: Schema.optional(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(128))),
  idempotency_scope: Schema.optional(Schema.String.check(Schema.isMaxLength(128)))
}

export const NewAccount = Schema.Struct({
  user_id: Schema.String.check(Schema.isUUID()),
  account_type: AccountType,
  initial_deposit_minor: Schema.optional(MinorUnits),
  ...Idempotency
})

export const Movement = Schema.Struct({
  amount_minor: MinorUnits,
  description: Description,
  owner_id: Owner,
  ...Idempotency
})

export const NewTransfer = Schema.Struct({
  from_account_id: AccountId,
  to_account_id: AccountId,
  amount_minor: MinorUnits,
  description: Description,
  owner_id: Owner,
  ...Idempotency
})

const MovementErrors = [NotFound, AccountClosed, InsufficientFunds, IdempotencyKeyReused] as const

export const AccountsApi = HttpApi.make("accounts")
  .add(
    HttpApiGroup.make("accounts")
      .add(
        HttpApiEndpoint.post("create", "/accounts", {
          payload: NewAccount,
          success: Account.pipe(HttpApiSchema.status(201)),
          error: [IdempotencyKeyReused, Conflict]
        })
      )
      .add(
        HttpApiEndpoint.get("list", "/accounts", {
          query: { user_id: Schema.optional(Schema.String) },
          success: Schema.Array(Account)
        })
      )
      .add(
        HttpApiEndpoint.get("get", "/accounts/:id", {
          params: { id: AccountId },
          query: { owner_id: Owner },
          success: Account,
          error: NotFound
        })
      )
      .add(
        HttpApiEndpoint.post("close", "/accounts/:id/close", {
          params: { id: AccountId },
          payload: Schema.Struct({ owner_id: Owner }),
          success: Account,
          error: [NotFound, InvalidOperation]
        })
      )
      .add(
        HttpApiEndpoint.post("deposit", "/accounts/:id/deposits", {
          params: { id: AccountId },
          payload: Movement,
          success: Transaction.pipe(HttpApiSchema.status(201)),
          error: MovementErrors
        })
      )
      .add(
        HttpApiEndpoint.post("withdraw", "/accounts/:id/withdrawals", {
          params: { id: AccountId },
          payload: Movement,
          success: Transaction.pipe(HttpApiSchema.status(201)),
          error: MovementErrors
        })
      )
      .add(
        HttpApiEndpoint.post("transfer", "/transfers", {
          payload: NewTransfer,
          success: Transfer.pipe(HttpApiSchema.status(201)),
          error: [...MovementErrors, InvalidOperation]
        })
      )
      .add(
        HttpApiEndpoint.get("transactions", "/accounts/:id/transactions", {
          params: { id: AccountId },
          query: {
            owner_id: Owner,
            limit: Schema.optional(
              Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 100 }))
            ),
            before: Schema.optional(Schema.String.check(Schema.isMaxLength(200)))
          },
          success: Schema.Struct({ items: Schema.Array(Transaction), next_before: Schema.NullOr(Schema.String) }),
          error: NotFound
        })
      )
      .add(
        HttpApiEndpoint.get("stats", "/accounts/stats", {
          success: Schema.Struct({ accounts: Schema.Int, transactions: Schema.Int, total_balance_minor: Schema.Int })
        })
      )
  )
  .middleware(HttpApiMiddleware.ProblemDetails)
  .annotate(HttpApi.ParseOptions, { errors: "all" })

/** Published (outbox) for every completed deposit, withdrawal, and each side of a transfer. */
export const TransactionCompleted = Message.make(
  "transaction.completed",
  Schema.Struct({
    transaction_id: Schema.String,
    account_id: Schema.String,
    user_id: Schema.String,
    transaction_type: TransactionType,
    amount: Schema.String,
    amount_minor: Schema.Int,
    balance_after: Schema.String,
    currency: Schema.String,
    message: Schema.String
  }),
  { key: (e) => e.account_id }
)
