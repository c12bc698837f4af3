/**
 * The secrets a local Microbank needs (admin password, JWT signing key), generated on first
 * start and kept in `<DATA_DIR>/secrets.json` (mode 0600), so logins survive restarts and
 * nothing secret is committed or hard-coded.
 */
import { randomBytes } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

export interface Secrets {
  readonly adminPassword: string
  readonly jwtKid: string
  readonly jwtKey: string
}

export const load = (
  dataDir: string
): { readonly secrets: Secrets; readonly file: string; readonly created: boolean } => {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const file = join(dataDir, "secrets.json")
  if (existsSync(file)) return { secrets: JSON.parse(readFileSync(file, "utf8")) as Secrets, file, created: false }
  const secrets: Secrets = {
    adminPassword: randomBytes(12).toString("base64url"),
    jwtKid: new Date().toISOString().slice(0, 10),
    jwtKey: randomBytes(32).toString("base64url")
  }
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 })
  chmodSync(file, 0o600)
  return { secrets, file, created: true }
}

/** The environment every service gets from the secrets. */
export const env = (s: Secrets): Record<string, string> => ({
  ADMIN_PASSWORD: s.adminPassword,
  JWT_SIGNING_KEYS: JSON.stringify({ [s.jwtKid]: s.jwtKey }),
  JWT_ACTIVE_KID: s.jwtKid
})
