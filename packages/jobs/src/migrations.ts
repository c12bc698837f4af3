import type { Database } from "@troupe/runtime"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const migrations: Database.Migrations = {
  "0001_create_jobs": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      create table pipelines (
        id uuid primary key,
        name text not null,
        owner_id uuid not null,
        status text not null default 'queued',
        error text,
        created_at timestamptz not null default now(),
        finished_at timestamptz
      )`
    yield* sql`
      create table jobs (
        id uuid primary key,
        name text not null,
        kind text not null,
        params jsonb not null,
        owner_id uuid not null,
        owner_role text not null,
        status text not null default 'queued',
        progress_completed int not null default 0,
        progress_total int,
        progress_message text,
        error text,
        pipeline_id uuid references pipelines (id),
        step_index int,
        created_at timestamptz not null default now(),
        started_at timestamptz,
        finished_at timestamptz
      )`
    yield* sql`create index jobs_owner on jobs (owner_id, created_at desc)`
    yield* sql`create index jobs_pipeline on jobs (pipeline_id, step_index)`
    yield* sql`
      create table job_results (
        job_id uuid primary key references jobs (id),
        content_type text not null,
        body text not null,
        created_at timestamptz not null default now()
      )`
  })
}
