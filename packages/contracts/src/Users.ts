/**
 * The users service: its internal HTTP API (called by the gateway) and its events.
 */
import { Message } from "@troupe/runtime"
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema } from "effect/http-api"
import { Conflict, InvalidCredentials, NotFound } from "./Problems.ts"

export const UserId = Schema.String.check(Schema.isUUID())
export const Role = Schema.Literals(["customer", "admin"])
export type Role = typeof Role.Type

export const Username = Schema.String.check(
  Schema.isPattern(/^[a-z0-9][a-z0-9._-]{2,31}$/, {
    message: "must be 3 to 32 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
  })
)
export const Email = Schema.String.check(
  Schema.isMaxLength(254),
  Schema.isPattern(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, { message: "must be an email address like alice@example.com" })
)
/** E.164-style: optional +, 7 to 15 digits; spaces, dashes, dots and parentheses allowed between digits. */
export const Phone = Schema.String.check(
  Schema.isPattern(/^\+?[0-9][0-9 ().-]{5,20}[0-9]$/, { message: "must be a phone number like +1 555 010 0199" }),
  Schema.makeFilter(
    (s: string) => {
      const digits = s.replace(/[^0-9]/g, "").length
      return digits >= 7 && digits <= 15
    },
    { message: "a phone number has 7 to 15 digits" }
  )
)
export const Password = Schema.String.check(
  Schema.isMinLength(8, { message: "must be at least 8 characters" }),
  Schema.isMaxLength(128)
)
export const Name = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(100))

export const User = Schema.Struct({
  id: UserId,
  username: Schema.String,
  name: Schema.String,
  email: Schema.String,
  phone: Schema.NullOr(Schema.String),
  role: Role,
  created_at: Schema.String
})
export type User = typeof User.Type

export const NewUser = Schema.Struct({
  username: Username,
  name: Name,
  email: Email,
  phone: Schema.optional(Schema.NullOr(Phone)),
  password: Password,
  role: Schema.optional(Role)
})
export type NewUser = typeof NewUser.Type

export const Credentials = Schema.Struct({
  username: Schema.String.check(Schema.isMaxLength(64)),
  password: Schema.String.check(Schema.isMaxLength(128))
})

export const Page = Schema.Struct({
  limit: Schema.optional(Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 100 }))),
  offset: Schema.optional(
    Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 0, maximum: 1_000_000 }))
  )
})

export const UsersApi = HttpApi.make("users")
  .add(
    HttpApiGroup.make("users")
      .add(
        HttpApiEndpoint.post("create", "/users", {
          payload: NewUser,
          success: User.pipe(HttpApiSchema.status(201)),
          error: Conflict
        })
      )
      .add(HttpApiEndpoint.get("list", "/users", { query: Page, success: Schema.Array(User) }))
      .add(HttpApiEndpoint.get("get", "/users/:id", { params: { id: UserId }, success: User, error: NotFound }))
      .add(
        HttpApiEndpoint.post("verifyPassword", "/users/verify-password", {
          payload: Credentials,
          success: User,
          error: InvalidCredentials
        })
      )
      .add(HttpApiEndpoint.get("stats", "/users/stats", { success: Schema.Struct({ users: Schema.Int }) }))
  )
  .middleware(HttpApiMiddleware.ProblemDetails)
  .annotate(HttpApi.ParseOptions, { errors: "all" })

/** Published (outbox) when a user is created. */
export const UserCreated = Message.make(
  "user.created",
  Schema.Struct({ user_id: Schema.String, username: Schema.String, name: Schema.String, email: Schema.String }),
  { key: (e) => e.user_id }
)
