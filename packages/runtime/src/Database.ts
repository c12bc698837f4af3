/**
 * The database of one service: an `@effect/sql-pg` client, and the service's migrations
 * (plus the runtime's own outbox/inbox tables) applied at start.
 *
 * With `DATABASE_URL` set it connects to PostgreSQL. Without it, it starts an embedded
 * PostgreSQL (PGlite, WASM) persisted in `DATA_DIR/<service>` and served to the same
 * client over a private unix socket — the same SQL runs in both modes.
 *
 * @example
 * ```ts
 * const Db = Database.layer({
 *   service: "accounts",
 *   migrations: { "0001_create_accounts": createAccounts }
 * })
 * ```
 */
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer, Option, Redacted, Schema } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import { mkdirSync, rmSync } from "node:fs"
import * as Path from "node:path"
import { Health } from "./Health.ts"
import { runtimeMigrations } from "./internal/migrations.ts"

export type Migrations = Record<string, Effect.Effect<unknown, unknown, SqlClient.SqlClient>>

export interface Options {
  /** Service name: the embedded database's directory, and the label in errors. */
  readonly service: string
  /** Migrations as code, keyed `NNNN_name`, applied in order once each. */
  readonly migrations?: Migrations
}

/** A start-up failure of the database layer, with a one-line explanation. */
export class DatabaseError extends Schema.TaggedError<DatabaseError>()("DatabaseError", {
  message: Schema.String
}) {}

/** Database settings read from the environment. */
export const config = Config.all({
  url: Config.option(Config.Redacted("DATABASE_URL")),
  poolMax: Config.Int("DATABASE_POOL_MAX").pipe(Config.withDefault(10)),
  dataDir: Config.String("DATA_DIR").pipe(Config.withDefault(".data"))
})

/** `postgres://user:secret@host/db` → `postgres://user@host/db`, for messages. */
export const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    parsed.password = ""
    return parsed.toString()
  } catch {
    return "(unparseable DATABASE_URL)"
  }
}

const embedded = (service: string, dataDir: string) =>
  Effect.gen(function* () {
    const { PGlite } = yield* Effect.promise(() => import("@electric-sql/pglite"))
    const { PGLiteSocketServer } = yield* Effect.promise(() => import("@electric-sql/pglite-socket"))
    const dir = Path.resolve(dataDir, service)
    mkdirSync(dir, { recursive: true })
    const db = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          PGlite.create({
            dataDir: dir,
            // One small instance per service: keep memory near 50 MB each.
            postgresqlconf: ["shared_buffers=16MB", "work_mem=4MB"]
          }),
        catch: (error) =>
          new DatabaseError({
            message: `embedded database in ${dir} could not start: ${String(error)} (is another process using it?)`
          })
      }),
      (db) => Effect.promise(() => db.close())
    )
    // A unix socket inside the data directory: not reachable over TCP, protected by directory permissions.
    const socket = Path.join(Path.relative(process.cwd(), dir) || ".", ".s.PGSQL.5432")
    rmSync(socket, { force: true })
    yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const server = new PGLiteSocketServer({ db, path: socket, maxConnections: 4 })
          await server.start()
          return server
        },
        catch: (error) => new DatabaseError({ message: `embedded database socket ${socket}: ${String(error)}` })
      }),
      (server) => Effect.promise(() => server.stop())
    )
    // PGlite is a single backend: one connection keeps statements from different
    // connections from interleaving.
    // Several embedded databases share one event loop at start (embedded mode): be patient.
    return yield* PgClient.make({
      path: socket,
      username: "postgres",
      database: "postgres",
      maxConnections: 1,
      connectTimeout: "60 seconds"
    }).pipe(Effect.mapError((error) => new DatabaseError({ message: `embedded database: ${describeSqlError(error)}` })))
  })

const migrate = (service: string, migrations: Migrations) =>
  Effect.gen(function* () {
    const run = Migrator.make({})
    yield* run({ loader: Migrator.fromRecord(runtimeMigrations), table: "troupe_migrations" })
    yield* run({ loader: Migrator.fromRecord(migrations), table: "service_migrations" })
  }).pipe(
    Effect.mapError(
      (error) => new DatabaseError({ message: `migrations of ${service} failed: ${describeSqlError(error)}` })
    )
  )

const describeSqlError = (error: unknown): string => {
  const e = error as { message?: string; cause?: unknown }
  const cause = e.cause as { message?: string; code?: string } | undefined
  const detail = cause?.message ? `: ${cause.message}` : ""
  return `${e.message ?? String(error)}${detail}`
}

/**
 * Provides `SqlClient` (and `PgClient`) for a service, after migrating its schema.
 * Registers a `database` readiness check.
 */
export const layer = (options: Options): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, DatabaseError, Health> =>
  Layer.unwrap(
    Effect.gen(function* () {
      const settings = yield* config.pipe(
        Effect.mapError((error) => new DatabaseError({ message: `invalid database configuration: ${error.message}` }))
      )
      const client = Option.match(settings.url, {
        onNone: () => embedded(options.service, settings.dataDir),
        onSome: (url) =>
          PgClient.make({
            url,
            maxConnections: settings.poolMax,
            applicationName: options.service,
            connectTimeout: "5 seconds"
          }).pipe(
            Effect.mapError(
              (error) =>
                new DatabaseError({
                  message: `cannot connect to DATABASE_URL ${redactUrl(Redacted.value(url))}: ${describeSqlError(error)}`
                })
            )
          )
      })
      const where = Option.match(settings.url, {
        onNone: () => `embedded database in ${settings.dataDir}`,
        onSome: (url) => `DATABASE_URL ${redactUrl(Redacted.value(url))}`
      })
      return PgClient.layerFrom(
        Effect.gen(function* () {
          const pg = yield* client
          yield* pg`select 1`.pipe(
            Effect.timeout(Option.isSome(settings.url) ? "10 seconds" : "60 seconds"),
            Effect.mapError(
              (error) => new DatabaseError({ message: `cannot connect to ${where}: ${describeSqlError(error)}` })
            )
          )
          yield* migrate(options.service, options.migrations ?? {}).pipe(Effect.provideService(SqlClient.SqlClient, pg))
          yield* Health.register("database", pg`select 1`)
          return pg
        })
      )
    })
  )
