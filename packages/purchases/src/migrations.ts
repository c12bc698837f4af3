import type { Database } from "@troupe/runtime"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const migrations: Database.Migrations = {
  "0001_create_purchases": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      create table purchases (
        id uuid primary key,
        userid text not null,
        username text not null,
        price_minor bigint not null check (price_minor > 0),
        purchased_at timestamptz not null,
        stored_at timestamptz not null default now()
      )`
    yield* sql`create index purchases_user on purchases (userid, purchased_at desc)`
  })
}
