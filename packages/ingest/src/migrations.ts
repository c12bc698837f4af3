import type { Database } from "@troupe/runtime"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const migrations: Database.Migrations = {
  "0001_create_records": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // Ids are UUIDv7, given when the API accepts a record: time-ordered, and the dedupe key.
    yield* sql`
      create table records (
        id uuid primary key,
        type text not null,
        source text not null,
        data jsonb not null,
        received_at timestamptz not null,
        stored_at timestamptz not null default now()
      )`
    yield* sql`create index records_received on records (received_at)`
    yield* sql`create index records_type on records (type, id desc)`
  }),
  // Records accepted with an idempotency key have name-based ids (not time-ordered): "recent" orders by arrival.
  "0002_records_recent": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`create index records_type_received on records (type, received_at desc, id desc)`
  })
}
