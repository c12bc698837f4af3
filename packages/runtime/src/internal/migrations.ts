// The runtime's own tables, migrated into every service database (table `troupe_migrations`).
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const runtimeMigrations = {
  "0001_messaging": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // Transactional outbox: rows are written with the state change and published by the relay.
    yield* sql`
      create table troupe_outbox (
        seq bigserial primary key,
        id uuid not null,
        destination_kind text not null check (destination_kind in ('topic', 'queue')),
        destination text not null,
        type text not null,
        key text not null,
        occurred_at timestamptz not null,
        traceparent text,
        body text not null
      )`
    // One relay publishes at a time per database: the holder of an expiring lease.
    yield* sql`
      create table troupe_outbox_lease (
        id int primary key check (id = 1),
        holder text not null,
        expires_at timestamptz not null
      )`
    // Inbox: a message id is handled once per consumer, in the handler's transaction.
    yield* sql`
      create table troupe_inbox (
        consumer text not null,
        message_id uuid not null,
        handled_at timestamptz not null default now(),
        primary key (consumer, message_id)
      )`
    yield* sql`create index troupe_inbox_handled_at on troupe_inbox (handled_at)`
  })
}
