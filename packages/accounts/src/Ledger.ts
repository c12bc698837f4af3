/**
 * The ledger: balances and their history in one database, changed only inside transactions
 * that lock the rows they change (in id order, so two transfers never deadlock), write the
 * history row and the `transaction.completed` events (outbox) together, and remember the
 * answer to an `Idempotency-Key`. The `Account` entity serializes calls per account on top;
 * these row locks keep balances right even when two processes act on the same account.
 */
import { Accounts as Contract, Events, Money, Problems } from "@microbank/contracts"
import { Metrics, Outbox } from "@troupe/runtime"
import * as Id from "@troupe/runtime/Id"
import { Context, Effect, Layer, Option, Schedule, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { createHash } from "node:crypto"

interface AccountRow {
  readonly id: string
  readonly user_id: string
  readonly account_type: "checking" | "savings"
  readonly status: "open" | "closed"
  readonly balance_minor: bigint | number
  readonly currency: string
  readonly created_at: Date
}

interface TransactionRow {
  readonly id: string
  readonly account_id: string
  readonly type: Contract.TransactionType
  readonly amount_minor: bigint | number
  readonly balance_after_minor: bigint | number
  readonly counterparty_account_id: string | null
  readonly transfer_id: string | null
  readonly description: string | null
  readonly created_at: Date
}

export const toAccount = (row: AccountRow): Contract.Account => ({
  id: row.id,
  user_id: row.user_id,
  account_type: row.account_type,
  status: row.status,
  balance: Money.format(Number(row.balance_minor)),
  balance_minor: Number(row.balance_minor),
  currency: row.currency,
  created_at: new Date(row.created_at).toISOString()
})

export const toTransaction = (row: TransactionRow): Contract.Transaction => ({
  id: row.id,
  account_id: row.account_id,
  type: row.type,
  amount: Money.format(Number(row.amount_minor)),
  amount_minor: Number(row.amount_minor),
  balance_after: Money.format(Number(row.balance_after_minor)),
  counterparty_account_id: row.counterparty_account_id,
  transfer_id: row.transfer_id,
  description: row.description,
  created_at: new Date(row.created_at).toISOString()
})

const short = (id: string) => `…${id.slice(-4)}`

const messageFor = (t: Contract.Transaction, balanceAfterMinor: number): string => {
  const amount = Money.display(t.amount_minor)
  const balance = Money.display(balanceAfterMinor)
  switch (t.type) {
    case "deposit":
      return `Deposit of ${amount} completed. New balance: ${balance}`
    case "withdrawal":
      return `Withdrawal of ${amount} completed. New balance: ${balance}`
    case "transfer_out":
      return `Transfer of ${amount} to account ${short(t.counterparty_account_id ?? "")} completed. New balance: ${balance}`
    case "transfer_in":
      return `Transfer of ${amount} from account ${short(t.counterparty_account_id ?? "")} received. New balance: ${balance}`
  }
}

export interface MovementInput {
  readonly accountId: string
  readonly amountMinor: number
  readonly description: string | null
  readonly ownerId: string | undefined
  readonly idempotencyKey: string | undefined
  readonly idempotencyScope: string | undefined
}

export interface TransferInput extends Omit<MovementInput, "accountId"> {
  readonly fromAccountId: string
  readonly toAccountId: string
}

export type MovementError =
  Problems.NotFound | Problems.AccountClosed | Problems.InsufficientFunds | Problems.IdempotencyKeyReused

export class Ledger extends Context.Service<
  Ledger,
  {
    readonly open: (input: {
      readonly userId: string
      readonly accountType: "checking" | "savings"
      readonly initialDepositMinor: number | undefined
      readonly idempotencyKey: string | undefined
      readonly idempotencyScope: string | undefined
    }) => Effect.Effect<Contract.Account, Problems.IdempotencyKeyReused>
    readonly deposit: (input: MovementInput) => Effect.Effect<Contract.Transaction, MovementError>
    readonly withdraw: (input: MovementInput) => Effect.Effect<Contract.Transaction, MovementError>
    readonly transfer: (
      input: TransferInput
    ) => Effect.Effect<Contract.Transfer, MovementError | Problems.InvalidOperation>
    readonly close: (
      accountId: string,
      ownerId: string | undefined
    ) => Effect.Effect<Contract.Account, Problems.NotFound | Problems.InvalidOperation>
    readonly get: (accountId: string, ownerId: string | undefined) => Effect.Effect<Contract.Account, Problems.NotFound>
    readonly list: (userId: string | undefined) => Effect.Effect<ReadonlyArray<Contract.Account>>
    readonly history: (
      accountId: string,
      ownerId: string | undefined,
      limit: number,
      before: string | undefined
    ) => Effect.Effect<
      { readonly items: ReadonlyArray<Contract.Transaction>; readonly next_before: string | null },
      Problems.NotFound
    >
    readonly stats: Effect.Effect<{
      readonly accounts: number
      readonly transactions: number
      readonly total_balance_minor: number
    }>
  }
>()("accounts/Ledger") {
  static readonly layer = Layer.effect(
    this,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const metrics = yield* Metrics.Metrics
      const transactions = metrics.counter(
        "microbank_transactions_total",
        "Deposits, withdrawals and transfers, by type and outcome",
        ["type", "outcome"]
      )
      const volume = metrics.counter(
        "microbank_transaction_amount_minor_total",
        "Money moved, in minor units, by type",
        ["type"]
      )
      const accountsOpened = metrics.counter("microbank_accounts_opened_total", "Accounts opened, by type", [
        "account_type"
      ])

      const types = ["deposit", "withdrawal", "transfer"]
      Metrics.startAtZero(transactions, { type: types, outcome: ["completed", "InsufficientFunds"] })
      Metrics.startAtZero(volume, { type: types })
      Metrics.startAtZero(accountsOpened, { account_type: Contract.AccountType.literals })

      const notFound = (id: string) => new Problems.NotFound({ resource: "account", id })

      // Runs `body` in a transaction, retried on deadlocks and serialization failures.
      const atomically = <A, E>(
        body: Effect.Effect<A, E | SqlError.SqlError | Schema.SchemaError, SqlClient.SqlClient>
      ) =>
        sql.withTransaction(body).pipe(
          Effect.provideService(SqlClient.SqlClient, sql),
          Effect.retry({
            while: (e) => (e as { _tag?: string })._tag === "SqlError" && (e as SqlError.SqlError).isRetryable,
            schedule: Schedule.exponential("10 millis"),
            times: 5
          }),
          Effect.catchTag("SqlError", (e) => Effect.die(e)),
          Effect.catchTag("SchemaError", (e) => Effect.die(e))
        ) as Effect.Effect<A, Exclude<E, SqlError.SqlError | Schema.SchemaError>>

      // Idempotency: the stored answer to (scope, key), or none; a different request under the same key fails.
      const remembered = <A>(
        key: string | undefined,
        scope: string | undefined,
        requestHash: string,
        schema: Schema.Codec<A, unknown>
      ) =>
        Effect.gen(function* () {
          if (key === undefined) return Option.none<A>()
          const rows = yield* sql<{ request_hash: string; response: unknown }>`
            select request_hash, response from idempotency_keys where scope = ${scope ?? ""} and key = ${key} for update`
          const row = rows[0]
          if (row === undefined) return Option.none<A>()
          if (row.request_hash !== requestHash) return yield* new Problems.IdempotencyKeyReused({ key })
          return Option.some(yield* Schema.decodeUnknownEffect(schema)(row.response))
        })

      const remember = (key: string | undefined, scope: string | undefined, requestHash: string, response: unknown) =>
        key === undefined
          ? Effect.void
          : sql`insert into idempotency_keys (scope, key, request_hash, response)
                values (${scope ?? ""}, ${key}, ${requestHash}, ${JSON.stringify(response)}::jsonb)`.pipe(Effect.asVoid)

      const hash = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex")

      const lock = (ids: ReadonlyArray<string>) =>
        sql<AccountRow>`select * from accounts where id = any(${[...ids].sort()}::uuid[]) order by id for update`

      const owned = (row: AccountRow | undefined, id: string, ownerId: string | undefined) =>
        row === undefined || (ownerId !== undefined && row.user_id !== ownerId)
          ? Effect.fail(notFound(id))
          : Effect.succeed(row)

      const record = (t: {
        readonly account: AccountRow
        readonly type: Contract.TransactionType
        readonly amountMinor: number
        readonly balanceAfter: number
        readonly counterparty: string | null
        readonly transferId: string | null
        readonly description: string | null
      }) =>
        Effect.gen(function* () {
          yield* sql`update accounts set balance_minor = ${t.balanceAfter} where id = ${t.account.id}`
          const [row] = yield* sql<TransactionRow>`
            insert into transactions (id, account_id, type, amount_minor, balance_after_minor, counterparty_account_id, transfer_id, description)
            values (${Id.uuidv7()}, ${t.account.id}, ${t.type}, ${t.amountMinor}, ${t.balanceAfter}, ${t.counterparty}, ${t.transferId}, ${t.description})
            returning *`
          const transaction = toTransaction(row!)
          yield* Outbox.publish(Events.BankingEvents, Contract.TransactionCompleted, {
            transaction_id: transaction.id,
            account_id: transaction.account_id,
            user_id: t.account.user_id,
            transaction_type: transaction.type,
            amount: transaction.amount,
            amount_minor: transaction.amount_minor,
            balance_after: transaction.balance_after,
            currency: t.account.currency,
            message: messageFor(transaction, t.balanceAfter)
          })
          return transaction
        })

      const counted = <A, E extends { readonly _tag: string }>(
        type: string,
        amountMinor: number,
        effect: Effect.Effect<A, E>
      ) =>
        effect.pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              transactions.inc({ type, outcome: "completed" })
              volume.inc({ type }, amountMinor)
            })
          ),
          Effect.tapError((e) => Effect.sync(() => transactions.inc({ type, outcome: e._tag })))
        )

      const movement = (type: "deposit" | "withdrawal") => (input: MovementInput) =>
        counted(
          type,
          input.amountMinor,
          atomically(
            Effect.gen(function* () {
              const requestHash = hash([type, input.accountId, input.amountMinor, input.description])
              const previous = yield* remembered(
                input.idempotencyKey,
                input.idempotencyScope,
                requestHash,
                Contract.Transaction
              )
              if (Option.isSome(previous)) return previous.value
              const [row] = yield* lock([input.accountId])
              const account = yield* owned(row, input.accountId, input.ownerId)
              if (account.status !== "open") return yield* new Problems.AccountClosed({ account_id: account.id })
              const balance = Number(account.balance_minor)
              if (type === "withdrawal" && balance < input.amountMinor) {
                return yield* new Problems.InsufficientFunds({
                  account_id: account.id,
                  balance: Money.format(balance),
                  requested: Money.format(input.amountMinor)
                })
              }
              const transaction = yield* record({
                account,
                type,
                amountMinor: input.amountMinor,
                balanceAfter: type === "deposit" ? balance + input.amountMinor : balance - input.amountMinor,
                counterparty: null,
                transferId: null,
                description: input.description
              })
              yield* remember(input.idempotencyKey, input.idempotencyScope, requestHash, transaction)
              return transaction
            })
          )
        )

      const transfer = (input: TransferInput) =>
        counted(
          "transfer",
          input.amountMinor,
          atomically(
            Effect.gen(function* () {
              if (input.fromAccountId === input.toAccountId) {
                return yield* new Problems.InvalidOperation({ detail: "cannot transfer to the same account" })
              }
              const requestHash = hash([
                "transfer",
                input.fromAccountId,
                input.toAccountId,
                input.amountMinor,
                input.description
              ])
              const previous = yield* remembered(
                input.idempotencyKey,
                input.idempotencyScope,
                requestHash,
                Contract.Transfer
              )
              if (Option.isSome(previous)) return previous.value
              const rows = yield* lock([input.fromAccountId, input.toAccountId])
              const from = yield* owned(
                rows.find((r) => r.id === input.fromAccountId),
                input.fromAccountId,
                input.ownerId
              )
              const to = yield* owned(
                rows.find((r) => r.id === input.toAccountId),
                input.toAccountId,
                undefined
              )
              for (const account of [from, to]) {
                if (account.status !== "open") return yield* new Problems.AccountClosed({ account_id: account.id })
              }
              const fromBalance = Number(from.balance_minor)
              if (fromBalance < input.amountMinor) {
                return yield* new Problems.InsufficientFunds({
                  account_id: from.id,
                  balance: Money.format(fromBalance),
                  requested: Money.format(input.amountMinor)
                })
              }
              const transferId = Id.uuidv7()
              const debit = yield* record({
                account: from,
                type: "transfer_out",
                amountMinor: input.amountMinor,
                balanceAfter: fromBalance - input.amountMinor,
                counterparty: to.id,
                transferId,
                description: input.description
              })
              const credit = yield* record({
                account: to,
                type: "transfer_in",
                amountMinor: input.amountMinor,
                balanceAfter: Number(to.balance_minor) + input.amountMinor,
                counterparty: from.id,
                transferId,
                description: input.description
              })
              const result: Contract.Transfer = {
                transfer_id: transferId,
                from_account_id: from.id,
                to_account_id: to.id,
                amount: Money.format(input.amountMinor),
                amount_minor: input.amountMinor,
                debit,
                credit
              }
              yield* remember(input.idempotencyKey, input.idempotencyScope, requestHash, result)
              return result
            })
          )
        )

      const open: Ledger["Service"]["open"] = (input) =>
        atomically(
          Effect.gen(function* () {
            const requestHash = hash(["open", input.userId, input.accountType, input.initialDepositMinor ?? 0])
            const previous = yield* remembered(
              input.idempotencyKey,
              input.idempotencyScope,
              requestHash,
              Contract.Account
            )
            if (Option.isSome(previous)) return previous.value
            const [row] = yield* sql<AccountRow>`
              insert into accounts (id, user_id, account_type) values (${Id.uuidv7()}, ${input.userId}, ${input.accountType}) returning *`
            let account = row!
            if (input.initialDepositMinor !== undefined) {
              yield* record({
                account,
                type: "deposit",
                amountMinor: input.initialDepositMinor,
                balanceAfter: input.initialDepositMinor,
                counterparty: null,
                transferId: null,
                description: "Initial deposit"
              })
              account = { ...account, balance_minor: input.initialDepositMinor }
            }
            const result = toAccount(account)
            yield* remember(input.idempotencyKey, input.idempotencyScope, requestHash, result)
            accountsOpened.inc({ account_type: input.accountType })
            return result
          })
        )

      const get = (accountId: string, ownerId: string | undefined) =>
        Effect.orDie(sql<AccountRow>`select * from accounts where id = ${accountId}`).pipe(
          Effect.flatMap((rows) => owned(rows[0], accountId, ownerId)),
          Effect.map(toAccount)
        )

      const close = (accountId: string, ownerId: string | undefined) =>
        atomically(
          Effect.gen(function* () {
            const [row] = yield* lock([accountId])
            const account = yield* owned(row, accountId, ownerId)
            if (account.status === "closed") return toAccount(account)
            if (Number(account.balance_minor) !== 0) {
              return yield* new Problems.InvalidOperation({
                detail: `withdraw or transfer the balance of ${Money.format(Number(account.balance_minor))} before closing the account`
              })
            }
            const [closed] = yield* sql<AccountRow>`
              update accounts set status = 'closed', closed_at = now() where id = ${accountId} returning *`
            return toAccount(closed!)
          })
        )

      const history: Ledger["Service"]["history"] = (accountId, ownerId, limit, before) =>
        Effect.gen(function* () {
          yield* get(accountId, ownerId)
          const rows = yield* Effect.orDie(
            before === undefined || !/^[0-9a-f-]{36}$/.test(before)
              ? sql<TransactionRow>`select * from transactions where account_id = ${accountId} order by id desc limit ${limit + 1}`
              : sql<TransactionRow>`select * from transactions where account_id = ${accountId} and id < ${before}::uuid order by id desc limit ${limit + 1}`
          )
          const items = rows.slice(0, limit).map(toTransaction)
          return { items, next_before: rows.length > limit ? items[items.length - 1]!.id : null }
        })

      return Ledger.of({
        open,
        deposit: movement("deposit"),
        withdraw: movement("withdrawal"),
        transfer,
        close,
        get,
        list: (userId) =>
          Effect.orDie(
            Effect.map(
              userId === undefined
                ? sql<AccountRow>`select * from accounts order by created_at, id limit 500`
                : sql<AccountRow>`select * from accounts where user_id = ${userId} order by created_at, id`,
              (rows) => rows.map(toAccount)
            )
          ),
        history,
        stats: Effect.orDie(
          Effect.map(
            sql<{ accounts: number; transactions: number; total: number }>`
              select (select count(*)::int from accounts) as accounts,
                     (select count(*)::int from transactions) as transactions,
                     (select coalesce(sum(balance_minor), 0)::float8 from accounts) as total`,
            ([r]) => ({ accounts: r!.accounts, transactions: r!.transactions, total_balance_minor: r!.total })
          )
        )
      })
    })
  )
}
