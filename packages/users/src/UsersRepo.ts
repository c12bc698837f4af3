// SQL for the users table.
import type { Users } from "@microbank/contracts"
import { Context, Effect, Layer, Option } from "effect"
import { SqlClient, type SqlError } from "effect/sql"

export interface UserRow {
  readonly id: string
  readonly username: string
  readonly name: string
  readonly email: string
  readonly phone: string | null
  readonly role: Users.Role
  readonly password_hash: string
  readonly created_at: Date
}

export const toUser = (row: UserRow): Users.User => ({
  id: row.id,
  username: row.username,
  name: row.name,
  email: row.email,
  phone: row.phone,
  role: row.role,
  created_at: new Date(row.created_at).toISOString()
})

export class UsersRepo extends Context.Service<
  UsersRepo,
  {
    readonly insert: (row: Omit<UserRow, "created_at">) => Effect.Effect<UserRow, SqlError.SqlError>
    readonly byId: (id: string) => Effect.Effect<Option.Option<UserRow>, SqlError.SqlError>
    readonly byUsername: (username: string) => Effect.Effect<Option.Option<UserRow>, SqlError.SqlError>
    readonly list: (limit: number, offset: number) => Effect.Effect<ReadonlyArray<UserRow>, SqlError.SqlError>
    readonly count: Effect.Effect<number, SqlError.SqlError>
  }
>()("users/UsersRepo") {
  static readonly layer = Layer.effect(
    this,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const one = (rows: ReadonlyArray<UserRow>) => Option.fromNullishOr(rows[0])
      return UsersRepo.of({
        insert: (row) =>
          Effect.map(
            sql<UserRow>`
              insert into users (id, username, name, email, phone, role, password_hash)
              values (${row.id}, ${row.username}, ${row.name}, ${row.email}, ${row.phone}, ${row.role}, ${row.password_hash})
              returning *`,
            (rows) => rows[0]!
          ),
        byId: (id) => Effect.map(sql<UserRow>`select * from users where id = ${id}`, one),
        byUsername: (username) =>
          Effect.map(sql<UserRow>`select * from users where lower(username) = lower(${username})`, one),
        list: (limit, offset) =>
          sql<UserRow>`select * from users order by created_at, id limit ${limit} offset ${offset}`,
        count: Effect.map(sql<{ n: number }>`select count(*)::int as n from users`, (rows) => rows[0]!.n)
      })
    })
  )
}
