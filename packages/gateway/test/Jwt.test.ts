import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { createHmac } from "node:crypto"
import { Jwt } from "../src/Jwt.ts"

const secretA = "a".repeat(32)
const secretB = "b".repeat(40)
const config = (keys: Record<string, string>, active: string, extra: Record<string, string> = {}) =>
  ConfigProvider.layer(
    ConfigProvider.fromUnknown({ JWT_SIGNING_KEYS: JSON.stringify(keys), JWT_ACTIVE_KID: active, ...extra })
  )
const withJwt = (keys: Record<string, string>, active: string, extra?: Record<string, string>) =>
  Jwt.layer.pipe(Layer.provide(config(keys, active, extra)))

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
const forge = (header: unknown, payload: unknown, secret: string) => {
  const data = `${b64(header)}.${b64(payload)}`
  return `${data}.${createHmac("sha256", secret).update(data).digest("base64url")}`
}
const claims = { sub: "0190a000-0000-7000-8000-000000000001", username: "alice", role: "customer" as const }

describe("Jwt", () => {
  it.effect("signs HS256 tokens with the active kid and verifies them", () =>
    Effect.gen(function* () {
      const jwt = yield* Jwt
      const { token, expiresIn } = yield* jwt.sign(claims)
      const header = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString())
      assert.deepStrictEqual(header, { alg: "HS256", typ: "JWT", kid: "k1" })
      assert.strictEqual(expiresIn, 1800)
      assert.deepStrictEqual(yield* jwt.verify(token), claims)
    }).pipe(Effect.provide(withJwt({ k1: secretA }, "k1")))
  )

  const rejects = (token: (now: number) => string, reason: string) =>
    Effect.gen(function* () {
      const jwt = yield* Jwt
      const now = Math.floor(Date.now() / 1000)
      yield* TestClock.setTime(now * 1000)
      const error = yield* Effect.flip(jwt.verify(token(now)))
      assert.strictEqual(error.reason, reason)
    }).pipe(Effect.provide(withJwt({ k1: secretA }, "k1")))

  const good = (now: number) => ({
    ...claims,
    iss: "microbank",
    aud: "microbank-api",
    iat: now,
    nbf: now,
    exp: now + 600
  })

  it.effect("rejects alg none", () =>
    rejects(
      (now) => `${b64({ alg: "none", kid: "k1" })}.${b64(good(now))}.`,
      "unsupported token header (only HS256 with a kid)"
    )
  )
  it.effect("rejects another algorithm even with a valid HMAC", () =>
    rejects(
      (now) => forge({ alg: "HS512", kid: "k1" }, good(now), secretA),
      "unsupported token header (only HS256 with a kid)"
    )
  )
  it.effect("rejects a token without kid", () =>
    rejects((now) => forge({ alg: "HS256" }, good(now), secretA), "unsupported token header (only HS256 with a kid)")
  )
  it.effect("rejects an unknown kid", () =>
    rejects((now) => forge({ alg: "HS256", kid: "k9" }, good(now), secretA), "unknown signing key")
  )
  it.effect("rejects a token signed with another key", () =>
    rejects((now) => forge({ alg: "HS256", kid: "k1" }, good(now), "x".repeat(32)), "bad signature")
  )
  it.effect("rejects a tampered payload", () =>
    rejects((now) => {
      const [h, , s] = forge({ alg: "HS256", kid: "k1" }, good(now), secretA).split(".")
      return `${h}.${b64({ ...good(now), role: "admin" })}.${s}`
    }, "bad signature")
  )
  it.effect("rejects an expired token", () =>
    rejects((now) => forge({ alg: "HS256", kid: "k1" }, { ...good(now), exp: now - 120 }, secretA), "token expired")
  )
  it.effect("rejects a token not valid yet", () =>
    rejects(
      (now) => forge({ alg: "HS256", kid: "k1" }, { ...good(now), nbf: now + 600 }, secretA),
      "token not valid yet"
    )
  )
  it.effect("rejects the wrong issuer", () =>
    rejects((now) => forge({ alg: "HS256", kid: "k1" }, { ...good(now), iss: "evil" }, secretA), "wrong issuer")
  )
  it.effect("rejects the wrong audience", () =>
    rejects((now) => forge({ alg: "HS256", kid: "k1" }, { ...good(now), aud: "other-api" }, secretA), "wrong audience")
  )
  it.effect("rejects garbage", () => rejects(() => "not.a.jwt", "unsupported token header (only HS256 with a kid)"))

  it.effect("rotates keys: tokens of a retired-but-listed key still verify; removed keys do not", () =>
    Effect.gen(function* () {
      const old = yield* Effect.provide(
        Jwt.use((j) => j.sign(claims)),
        withJwt({ k1: secretA }, "k1")
      )
      const rotated = yield* Effect.provide(
        Effect.gen(function* () {
          const jwt = yield* Jwt
          const fresh = yield* jwt.sign(claims)
          assert.strictEqual(JSON.parse(Buffer.from(fresh.token.split(".")[0]!, "base64url").toString()).kid, "k2")
          return yield* jwt.verify(old.token)
        }),
        withJwt({ k1: secretA, k2: secretB }, "k2")
      )
      assert.deepStrictEqual(rotated, claims)
      const removed = yield* Effect.provide(
        Effect.flip(Jwt.use((j) => j.verify(old.token))),
        withJwt({ k2: secretB }, "k2")
      )
      assert.strictEqual(removed.reason, "unknown signing key")
    })
  )

  it.effect("refuses weak or inconsistent key configuration", () =>
    Effect.gen(function* () {
      const short = yield* Effect.flip(Layer.build(withJwt({ k1: "short" }, "k1")).pipe(Effect.scoped))
      assert.match(String((short as { message?: string }).message), /at least 32 characters/)
      const missing = yield* Effect.flip(Layer.build(withJwt({ k1: secretA }, "k2")).pipe(Effect.scoped))
      assert.match(String((missing as { message?: string }).message), /JWT_ACTIVE_KID "k2"/)
    })
  )
})
