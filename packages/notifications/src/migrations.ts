import type { Database } from "@troupe/runtime"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const migrations: Database.Migrations = {
  "0001_create_notifications": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      create table notifications (
        id uuid primary key,
        user_id uuid not null,
        kind text not null,
        message text not null,
        source_message_id uuid not null unique,
        created_at timestamptz not null default now()
      )`
    yield* sql`create index notifications_user on notifications (user_id, id desc)`
  })
}
