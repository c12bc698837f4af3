import type { Database } from "@troupe/runtime"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const migrations: Database.Migrations = {
  "0001_create_accounts": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      create table accounts (
        id uuid primary key,
        user_id uuid not null,
        account_type text not null check (account_type in ('checking', 'savings')),
        status text not null default 'open' check (status in ('open', 'closed')),
        balance_minor bigint not null default 0 check (balance_minor >= 0),
        currency text not null default 'USD',
        created_at timestamptz not null default now(),
        closed_at timestamptz
      )`
    yield* sql`create index accounts_user_id on accounts (user_id, created_at)`
    // The ledger: every change of a balance, append-only. Ids are UUIDv7 (time-ordered).
    yield* sql`
      create table transactions (
        id uuid primary key,
        account_id uuid not null references accounts (id),
        type text not null check (type in ('deposit', 'withdrawal', 'transfer_in', 'transfer_out')),
        amount_minor bigint not null check (amount_minor > 0),
        balance_after_minor bigint not null check (balance_after_minor >= 0),
        counterparty_account_id uuid,
        transfer_id uuid,
        description text,
        created_at timestamptz not null default now()
      )`
    yield* sql`create index transactions_account on transactions (account_id, id desc)`
    // Idempotency-Key: the first answer to a request, returned again for its retries.
    yield* sql`
      create table idempotency_keys (
        scope text not null,
        key text not null,
        request_hash text not null,
        response jsonb not null,
        created_at timestamptz not null default now(),
        primary key (scope, key)
      )`
  })
}
