/**
 * The users domain: registration with unique username/email and a hashed password, the
 * `user.created` event in the same transaction (outbox), and password verification.
 */
import { Events, Problems, Users as Contract } from "@microbank/contracts"
import { Metrics, Outbox } from "@troupe/runtime"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { UsersConfig } from "./Config.ts"
import { Passwords } from "./Passwords.ts"
import { toUser, UsersRepo } from "./UsersRepo.ts"

export class Users extends Context.Service<
  Users,
  {
    readonly create: (input: Contract.NewUser) => Effect.Effect<Contract.User, Problems.Conflict>
    readonly get: (id: string) => Effect.Effect<Contract.User, Problems.NotFound>
    readonly list: (limit: number, offset: number) => Effect.Effect<ReadonlyArray<Contract.User>>
    readonly verifyPassword: (
      username: string,
      password: Redacted.Redacted<string>
    ) => Effect.Effect<Contract.User, Problems.InvalidCredentials>
    readonly count: Effect.Effect<number>
  }
>()("users/Users") {
  static readonly layerNoDeps = Layer.effect(
    this,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const repo = yield* UsersRepo
      const passwords = yield* Passwords
      const metrics = yield* Metrics.Metrics
      const created = metrics.counter("microbank_users_created_total", "Users created, by role", ["role"])
      const logins = metrics.counter("microbank_login_attempts_total", "Password checks, by outcome", ["outcome"])
      Metrics.startAtZero(created, { role: Contract.Role.literals })
      Metrics.startAtZero(logins, { outcome: ["success", "failure"] })

      const create = Effect.fn("Users.create")(function* (input: Contract.NewUser) {
        const passwordHash = yield* passwords.hash(Redacted.make(input.password))
        const row = yield* sql
          .withTransaction(
            Effect.gen(function* () {
              const row = yield* repo.insert({
                id: crypto.randomUUID(),
                username: input.username,
                name: input.name,
                email: input.email.toLowerCase(),
                phone: input.phone ?? null,
                role: input.role ?? "customer",
                password_hash: passwordHash
              })
              yield* Outbox.publish(Events.BankingEvents, Contract.UserCreated, {
                user_id: row.id,
                username: row.username,
                name: row.name,
                email: row.email
              })
              return row
            })
          )
          .pipe(
            Effect.catchTag("SqlError", (error) => {
              if (error.reason._tag !== "UniqueViolation") return Effect.die(error)
              const field = error.reason.constraint.includes("email") ? "email" : "username"
              return Effect.fail(new Problems.Conflict({ field, detail: `a user with this ${field} already exists` }))
            }),
            Effect.catchTag("SchemaError", Effect.die),
            Effect.provideService(SqlClient.SqlClient, sql)
          )
        created.inc({ role: row.role })
        return toUser(row)
      })

      const get = (id: string) =>
        repo.byId(id).pipe(
          Effect.orDie,
          Effect.flatMap(
            Option.match({
              onNone: () => Effect.fail(new Problems.NotFound({ resource: "user", id })),
              onSome: (row) => Effect.succeed(toUser(row))
            })
          )
        )

      const verifyPassword = Effect.fn("Users.verifyPassword")(function* (
        username: string,
        password: Redacted.Redacted<string>
      ) {
        const row = yield* Effect.orDie(repo.byUsername(username))
        const ok = yield* passwords.verify(password, Option.getOrUndefined(row)?.password_hash)
        logins.inc({ outcome: ok ? "success" : "failure" })
        if (!ok || Option.isNone(row)) return yield* new Problems.InvalidCredentials({})
        return toUser(row.value)
      })

      return Users.of({
        create,
        get,
        list: (limit, offset) => Effect.orDie(Effect.map(repo.list(limit, offset), (rows) => rows.map(toUser))),
        verifyPassword,
        count: Effect.orDie(repo.count)
      })
    })
  )

  static readonly layer = this.layerNoDeps.pipe(Layer.provide(Layer.mergeAll(UsersRepo.layer, Passwords.layer)))
}

/** Creates the configured admin at start when `ADMIN_PASSWORD` is set and the username is free. */
export const ensureAdmin = Layer.effectDiscard(
  Effect.gen(function* () {
    const config = yield* UsersConfig
    if (Option.isNone(config.adminPassword)) return
    const users = yield* Users
    const repo = yield* UsersRepo
    if (Option.isSome(yield* Effect.orDie(repo.byUsername(config.adminUsername)))) return
    yield* users
      .create({
        username: config.adminUsername,
        name: "Administrator",
        email: config.adminEmail,
        password: Redacted.value(config.adminPassword.value),
        role: "admin"
      })
      .pipe(Effect.catchTag("Conflict", () => Effect.void))
    yield* Effect.logInfo(`created admin user "${config.adminUsername}"`)
  })
)
