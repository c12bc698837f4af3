// The users service's HTTP API: handlers wired to the domain.
import { Users as Contract } from "@microbank/contracts"
import { ServiceHost } from "@troupe/runtime"
import { Effect, Layer, Redacted } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { Users } from "./Users.ts"

const Handlers = HttpApiBuilder.group(Contract.UsersApi, "users", (handlers) =>
  Effect.gen(function* () {
    const users = yield* Users
    return handlers
      .handle("create", ({ payload }) => users.create(payload))
      .handle("list", ({ query }) => users.list(query.limit ?? 50, query.offset ?? 0))
      .handle("get", ({ params }) => users.get(params.id))
      .handle("verifyPassword", ({ payload }) =>
        users.verifyPassword(payload.username, Redacted.make(payload.password))
      )
      .handle("stats", () => Effect.map(users.count, (n) => ({ users: n })))
  })
)

export const layer = ServiceHost.layer({ name: "users", version: "1.0.0", port: 8081, api: Contract.UsersApi }).pipe(
  Layer.provide(Handlers)
)
