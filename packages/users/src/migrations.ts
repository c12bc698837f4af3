import type { Database } from "@troupe/runtime"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const migrations: Database.Migrations = {
  "0001_create_users": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      create table users (
        id uuid primary key,
        username text not null,
        name text not null,
        email text not null,
        phone text,
        role text not null check (role in ('customer', 'admin')),
        password_hash text not null,
        created_at timestamptz not null default now()
      )`
    yield* sql`create unique index users_username_key on users (lower(username))`
    yield* sql`create unique index users_email_key on users (lower(email))`
    yield* sql`create index users_created_at on users (created_at, id)`
  })
}
