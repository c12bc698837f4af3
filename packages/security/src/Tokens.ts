/**
 * Forged bearer tokens: every way an attacker (or a careless client) can get a JWT wrong. Each
 * must be refused with 401. The forger is proven honest by `valid`, which the gateway accepts.
 */
import { createHmac, randomBytes } from "node:crypto"

const b64 = (value: string | Buffer) => Buffer.from(value).toString("base64url")
const part = (value: unknown) => b64(JSON.stringify(value))

export interface Keys {
  readonly kid: string
  readonly key: string
  readonly issuer?: string
  readonly audience?: string
}

export interface Subject {
  readonly id: string
  readonly username: string
  readonly role: "customer" | "admin"
}

const hmac = (algorithm: "sha256" | "sha384" | "sha512", key: string | Buffer, data: string) =>
  b64(createHmac(algorithm, key).update(data).digest())

/** A JWT with the given header and claims, signed with HMAC (`algorithm`) and `key`. */
export const sign = (
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: string | Buffer,
  algorithm: "sha256" | "sha384" | "sha512" = "sha256"
): string => {
  const unsigned = `${part(header)}.${part(claims)}`
  return `${unsigned}.${hmac(algorithm, key, unsigned)}`
}

/** Forged tokens by attack name; `valid` is the control the gateway must accept. */
export const forge = (keys: Keys, subject: Subject): Readonly<Record<string, string>> => {
  const now = Math.floor(Date.now() / 1000)
  const claims = {
    sub: subject.id,
    username: subject.username,
    role: subject.role,
    iss: keys.issuer ?? "microbank",
    aud: keys.audience ?? "microbank-api",
    iat: now,
    nbf: now,
    exp: now + 600,
    jti: crypto.randomUUID()
  }
  const header = { alg: "HS256", typ: "JWT", kid: keys.kid }
  const valid = sign(header, claims, keys.key)
  const [h, p, s] = valid.split(".") as [string, string, string]
  const escalated = part({ ...claims, role: "admin" })
  const flipped = s.slice(0, -2) + (s.at(-2) === "A" ? "B" : "A") + s.at(-1)
  return {
    valid,
    "no token": "",
    "alg none": `${part({ ...header, alg: "none" })}.${p}.`,
    "alg None": `${part({ ...header, alg: "None" })}.${p}.`,
    "alg none with the real signature": `${part({ ...header, alg: "none" })}.${p}.${s}`,
    "HS512 with the real key": sign({ ...header, alg: "HS512" }, claims, keys.key, "sha512"),
    "HS384 header, HS256 signature": (() => {
      const unsigned = `${part({ ...header, alg: "HS384" })}.${p}`
      return `${unsigned}.${hmac("sha256", keys.key, unsigned)}`
    })(),
    "RS256 header signed with the key as an HMAC secret": sign({ ...header, alg: "RS256" }, claims, keys.key),
    "ES256 header": sign({ ...header, alg: "ES256" }, claims, keys.key),
    "wrong key": sign(header, claims, randomBytes(32).toString("base64url")),
    "empty key": sign(header, claims, ""),
    "wrong audience": sign(header, { ...claims, aud: "someone-else" }, keys.key),
    "audience list without ours": sign(header, { ...claims, aud: ["a", "b"] }, keys.key),
    "wrong issuer": sign(header, { ...claims, iss: "evil" }, keys.key),
    "no issuer": sign(header, { ...claims, iss: undefined }, keys.key),
    expired: sign(header, { ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }, keys.key),
    "expired long ago": sign(header, { ...claims, iat: 0, nbf: 0, exp: 1 }, keys.key),
    "not valid yet (nbf)": sign(header, { ...claims, nbf: now + 3600, exp: now + 7200 }, keys.key),
    "issued in the future (iat)": sign(
      header,
      { ...claims, iat: now + 3600, nbf: undefined, exp: now + 7200 },
      keys.key
    ),
    "exp as a string": sign(header, { ...claims, exp: String(now + 600) }, keys.key),
    "no exp": sign(header, { ...claims, exp: undefined }, keys.key),
    "no sub": sign(header, { ...claims, sub: undefined }, keys.key),
    "unknown role": sign(header, { ...claims, role: "root" }, keys.key),
    "unknown kid": sign({ ...header, kid: "1999-01-01" }, claims, keys.key),
    "no kid": sign({ alg: "HS256", typ: "JWT" }, claims, keys.key),
    "kid path traversal": sign({ ...header, kid: "../../../../dev/null" }, claims, keys.key),
    "kid SQL injection": sign({ ...header, kid: "x' union select 'secret" }, claims, keys.key),
    "jku/x5u header": sign(
      { ...header, jku: "http://127.0.0.1:1/jwks.json", x5u: "http://127.0.0.1:1/x" },
      claims,
      "x"
    ),
    "tampered payload (role admin)": `${h}.${escalated}.${s}`,
    "tampered signature": `${h}.${p}.${flipped}`,
    "signature stripped": `${h}.${p}.`,
    "two parts": `${h}.${p}`,
    "four parts": `${valid}.${s}`,
    "not base64": "!!!.@@@.###",
    "header not JSON": `${b64("not json")}.${p}.${s}`,
    "header a JSON array": `${b64("[]")}.${p}.${s}`,
    "payload not JSON": (() => {
      const unsigned = `${h}.${b64("{")}`
      return `${unsigned}.${hmac("sha256", keys.key, unsigned)}`
    })(),
    "invalid UTF-8 in payload": (() => {
      const unsigned = `${h}.${b64(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))}`
      return `${unsigned}.${hmac("sha256", keys.key, unsigned)}`
    })(),
    "huge token": `${h}.${b64("x".repeat(8_000))}.${s}`,
    "dots only": "..",
    garbage: "Bearer",
    "unicode junk": "\u00e9\u00e8.\u00e0.\u00fc"
  }
}
