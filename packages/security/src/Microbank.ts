/**
 * The system under attack: Microbank in embedded mode (one process, real PGlite databases),
 * started as a child process so its memory can be sampled and its crash would show; and an
 * HTTP client that keeps every response body it saw (the secrets scan reads them).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { freePort } from "@microbank/microbank/src/Stack.ts"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const embeddedMain = `${root}packages/microbank/src/main-embedded.ts`

export interface Embedded {
  readonly url: string
  readonly adminPassword: string
  readonly jwtKey: string
  readonly jwtKid: string
  readonly process: ChildProcess
  /** Every line the process printed so far. */
  readonly output: () => string
  /** The service hosts inside the process, from their "listening on" lines. */
  readonly servicePorts: () => Readonly<Record<string, number>>
  readonly alive: () => boolean
  readonly stop: () => Promise<void>
}

/** Resident memory of a process in bytes (Linux). */
export const rss = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)
  return kb ? Number(kb[1]) * 1024 : 0
}

export const startEmbedded = async (env: Record<string, string> = {}): Promise<Embedded> => {
  const dataDir = mkdtempSync(join(tmpdir(), "microbank-security-"))
  const port = await freePort()
  let output = ""
  const child = spawn(`${root}node_modules/.bin/node`, [embeddedMain], {
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), PASSWORD_SCRYPT_LOG_N: "14", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise<void>((r) => child.once("exit", () => r()))
  const deadline = Date.now() + 150_000
  while (!output.includes("Microbank is running")) {
    if (child.exitCode !== null) throw new Error(`embedded Microbank exited while starting:\n${output}`)
    if (Date.now() > deadline) {
      child.kill("SIGKILL")
      throw new Error(`embedded Microbank did not start within 150 s:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  const secrets = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")) as {
    adminPassword: string
    jwtKey: string
    jwtKid: string
  }
  return {
    url: `http://127.0.0.1:${port}`,
    adminPassword: secrets.adminPassword,
    jwtKey: secrets.jwtKey,
    jwtKid: secrets.jwtKid,
    process: child,
    output: () => output,
    servicePorts: () => {
      const ports: Record<string, number> = {}
      for (const line of output.split("\n")) {
        const m = /"service":"(\w+)","msg":"listening on http:\/\/[\d.]+:(\d+)"/.exec(line)
        if (m) ports[m[1]!] = Number(m[2])
      }
      return ports
    },
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000)
      await exited
      clearTimeout(killer)
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

export interface Reply<T = any> {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly body: T
}

/** A small HTTP client, as a user with curl would drive Microbank; remembers every body it received. */
export class Client {
  readonly base: string
  readonly token: string | undefined
  readonly seen: Array<string>
  constructor(base: string, token?: string, seen: Array<string> = []) {
    this.base = base
    this.token = token
    this.seen = seen
  }

  as(token: string | undefined): Client {
    return new Client(this.base, token, this.seen)
  }

  async request<T = any>(
    method: string,
    path: string,
    options: { body?: unknown; raw?: string | Uint8Array; contentType?: string; headers?: Record<string, string> } = {}
  ): Promise<Reply<T>> {
    const data =
      options.raw !== undefined ? options.raw : options.body === undefined ? undefined : JSON.stringify(options.body)
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(data === undefined ? {} : { "content-type": options.contentType ?? "application/json" }),
        ...(this.token !== undefined ? { authorization: `Bearer ${this.token}` } : {}),
        ...options.headers
      },
      ...(data === undefined ? {} : { body: data as BodyInit })
    })
    const text = await response.text()
    this.seen.push(text)
    let body: unknown = text
    try {
      body = text === "" ? undefined : JSON.parse(text)
    } catch {
      // not JSON
    }
    return { status: response.status, headers: response.headers, text, body: body as T }
  }

  get<T = any>(path: string) {
    return this.request<T>("GET", path)
  }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>("POST", path, { body, ...(headers ? { headers } : {}) })
  }

  async login(username: string, password: string): Promise<Client> {
    const r = await this.as(undefined).post("/api/auth/login", { username, password })
    if (r.status !== 200) throw new Error(`login of ${username} failed: ${r.status} ${r.text}`)
    return this.as(r.body.access_token)
  }

  /** Registers a customer and returns them logged in. */
  async customer(
    name: string,
    password = `pw-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`
  ): Promise<{ readonly client: Client; readonly user: any; readonly username: string; readonly password: string }> {
    const username = `${name}${Math.random().toString(36).slice(2, 8)}`
    const r = await this.as(undefined).post("/api/auth/register", {
      username,
      name: `${name} Tester`,
      email: `${username}@example.com`,
      password
    })
    if (r.status !== 201) throw new Error(`register failed: ${r.status} ${r.text}`)
    return { client: await this.login(username, password), user: r.body, username, password }
  }
}

/** Polls until `check` returns a value or the timeout passes. */
export const eventually = async <T>(check: () => Promise<T | undefined>, timeoutMs = 15_000, what = "condition") => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    await new Promise((r) => setTimeout(r, 150))
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`)
}
