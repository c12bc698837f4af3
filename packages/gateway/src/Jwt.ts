/**
 * JSON Web Tokens, HS256 only (the algorithm is pinned: `alg: none`, RS256 or anything else is
 * rejected before any key is touched). Keys are identified by `kid`: every configured key
 * verifies, the active one signs, so keys rotate without logging everyone out. `exp`, `nbf`,
 * `iat`, `iss` and `aud` are checked. HMAC with node:crypto (synchronous, microseconds; also
 * on Deno), compared in constant time.
 */
import { Clock, Context, Effect, Layer, Redacted, Schema } from "effect"
import { Buffer } from "node:buffer"
import { createHmac, timingSafeEqual } from "node:crypto"
import { GatewayConfig } from "./Config.ts"

export class InvalidToken extends Schema.TaggedError<InvalidToken>()("InvalidToken", { reason: Schema.String }) {}

export class InvalidKeys extends Schema.TaggedError<InvalidKeys>()("InvalidKeys", { message: Schema.String }) {}

export interface Claims {
  readonly sub: string
  readonly username: string
  readonly role: "customer" | "admin"
}

const encoder = new TextEncoder()
const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url")
const fromB64url = (s: string) => new Uint8Array(Buffer.from(s, "base64url"))
const json = (value: unknown) => b64url(encoder.encode(JSON.stringify(value)))

const Header = Schema.Struct({ alg: Schema.Literal("HS256"), typ: Schema.optional(Schema.String), kid: Schema.String })
const Payload = Schema.Struct({
  sub: Schema.String,
  username: Schema.String,
  role: Schema.Literals(["customer", "admin"]),
  iss: Schema.String,
  aud: Schema.Union([Schema.String, Schema.Array(Schema.String)]),
  exp: Schema.Number,
  nbf: Schema.optional(Schema.Number),
  iat: Schema.Number,
  jti: Schema.optional(Schema.String)
})
const parse = <A>(schema: Schema.Codec<A, unknown>, part: string | undefined) => {
  try {
    return Schema.decodeUnknownExit(schema)(
      JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(fromB64url(part ?? "")))
    )
  } catch {
    return undefined
  }
}

export class Jwt extends Context.Service<
  Jwt,
  {
    readonly sign: (claims: Claims) => Effect.Effect<{ readonly token: string; readonly expiresIn: number }>
    readonly verify: (token: string) => Effect.Effect<Claims, InvalidToken>
  }
>()("gateway/Jwt") {
  static readonly layer = Layer.effect(
    this,
    Effect.gen(function* () {
      const config = yield* GatewayConfig
      const raw = (() => {
        try {
          return JSON.parse(Redacted.value(config.signingKeys)) as unknown
        } catch {
          return undefined
        }
      })()
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        return yield* new InvalidKeys({
          message: 'JWT_SIGNING_KEYS must be a JSON object like {"2026-11": "<secret>"}'
        })
      }
      const entries = Object.entries(raw as Record<string, unknown>)
      if (entries.length === 0 || entries.some(([, v]) => typeof v !== "string" || v.length < 32)) {
        return yield* new InvalidKeys({
          message: "JWT_SIGNING_KEYS: every key must be a string of at least 32 characters"
        })
      }
      if (!entries.some(([kid]) => kid === config.activeKid)) {
        return yield* new InvalidKeys({
          message: `JWT_ACTIVE_KID "${config.activeKid}" is not one of the JWT_SIGNING_KEYS`
        })
      }
      const keys = new Map<string, Buffer>(entries.map(([kid, secret]) => [kid, Buffer.from(secret as string, "utf8")]))
      const hmac = (key: Buffer, data: string) => createHmac("sha256", key).update(data).digest()
      const reject = (reason: string) => Effect.fail(new InvalidToken({ reason }))

      const sign = (claims: Claims) =>
        Effect.gen(function* () {
          const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
          const header = json({ alg: "HS256", typ: "JWT", kid: config.activeKid })
          const payload = json({
            ...claims,
            iss: config.issuer,
            aud: config.audience,
            iat: now,
            nbf: now,
            exp: now + config.tokenTtlSeconds,
            jti: crypto.randomUUID()
          })
          const signature = hmac(keys.get(config.activeKid)!, `${header}.${payload}`)
          return {
            token: `${header}.${payload}.${b64url(signature)}`,
            expiresIn: config.tokenTtlSeconds
          }
        })

      const verify = (token: string) =>
        Effect.gen(function* () {
          const parts = token.split(".")
          if (parts.length !== 3 || token.length > 4096) return yield* reject("malformed token")
          const header = parse(Header, parts[0])
          if (header === undefined || header._tag === "Failure")
            return yield* reject("unsupported token header (only HS256 with a kid)")
          const key = keys.get(header.value.kid)
          if (key === undefined) return yield* reject("unknown signing key")
          const expected = hmac(key, `${parts[0]}.${parts[1]}`)
          const given = fromB64url(parts[2]!)
          const ok = given.length === expected.length && timingSafeEqual(given, expected)
          if (!ok) return yield* reject("bad signature")
          const payload = parse(Payload, parts[1])
          if (payload === undefined || payload._tag === "Failure") return yield* reject("malformed claims")
          const claims = payload.value
          const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
          const leeway = 30
          if (claims.exp <= now - leeway) return yield* reject("token expired")
          if ((claims.nbf ?? claims.iat) > now + leeway) return yield* reject("token not valid yet")
          if (claims.iss !== config.issuer) return yield* reject("wrong issuer")
          const audiences = typeof claims.aud === "string" ? [claims.aud] : claims.aud
          if (!audiences.includes(config.audience)) return yield* reject("wrong audience")
          return { sub: claims.sub, username: claims.username, role: claims.role }
        })

      return Jwt.of({ sign, verify })
    })
  )
}
