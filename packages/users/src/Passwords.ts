/**
 * Password hashing with scrypt, a memory-hard KDF (node:crypto, also on Deno), off the event
 * loop. Stored as `scrypt$<logN>$<r>$<p>$<salt>$<hash>` (base64), so the cost can be raised
 * later without invalidating existing hashes.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import { Buffer } from "node:buffer"
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto"
import { UsersConfig } from "./Config.ts"

const KEY_LENGTH = 32

const derive = (password: string, salt: Buffer, logN: number, r: number, p: number) =>
  Effect.callback<Buffer, Error>((resume) => {
    scrypt(password, salt, KEY_LENGTH, { N: 2 ** logN, r, p, maxmem: 256 * 1024 * 1024 }, (error, key) =>
      resume(error ? Effect.fail(error) : Effect.succeed(key))
    )
  })

export class Passwords extends Context.Service<
  Passwords,
  {
    readonly hash: (password: Redacted.Redacted<string>) => Effect.Effect<string>
    /** Constant-time check; an unknown user is checked against a dummy hash so timing does not tell. */
    readonly verify: (password: Redacted.Redacted<string>, stored: string | undefined) => Effect.Effect<boolean>
  }
>()("users/Passwords") {
  static readonly layer = Layer.effect(
    this,
    Effect.gen(function* () {
      const { scryptLogN } = yield* UsersConfig
      const hash = (password: Redacted.Redacted<string>) =>
        Effect.gen(function* () {
          const salt = randomBytes(16)
          const key = yield* derive(Redacted.value(password), salt, scryptLogN, 8, 1)
          return `scrypt$${scryptLogN}$8$1$${salt.toString("base64")}$${key.toString("base64")}`
        }).pipe(Effect.orDie)
      const dummy = yield* hash(Redacted.make("not a real password, only for timing"))
      const verify = (password: Redacted.Redacted<string>, stored: string | undefined) =>
        Effect.gen(function* () {
          const [scheme, logN, r, p, salt, expected] = (stored ?? dummy).split("$")
          if (scheme !== "scrypt" || !salt || !expected) return false
          const key = yield* derive(
            Redacted.value(password),
            Buffer.from(salt, "base64"),
            Number(logN),
            Number(r),
            Number(p)
          )
          const want = Buffer.from(expected, "base64")
          return stored !== undefined && key.length === want.length && timingSafeEqual(key, want)
        }).pipe(Effect.orDie)
      return Passwords.of({ hash, verify })
    })
  )
}
