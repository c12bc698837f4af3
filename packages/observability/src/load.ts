/**
 * `npm run load`: a realistic, bounded mix of Microbank traffic against a gateway — logins (and
 * some wrong passwords), reads, deposits, withdrawals (some overdrawn), transfers, a few tampered
 * tokens, admin reads, and purchases and ingest once the gateway's OpenAPI offers them — with a
 * progress bar and a summary table (ops, ok, 4xx, 5xx, network errors, p50/p99 latency).
 *
 *   npm run load -- [--url http://localhost:8080] [--ops 2000] [--duration 60s] [--concurrency 8]
 *                   [--customers 8] [--seed 1] [--progress bar|lines|none]
 *
 * The admin's password comes from ADMIN_PASSWORD, or from `secrets.json` in DATA_DIR (default:
 * `.data`, then `.stack`, as written by `npm start` / `npm run stack`). Without it the admin
 * operations are skipped. The run stops at --ops operations or --duration, whichever comes first
 * (plus 4 set-up requests per customer).
 */
import { existsSync, readFileSync } from "node:fs"
import { resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

export interface LoadOptions {
  readonly url: string
  /** Operations of the mix, at most (set-up requests not counted). */
  readonly ops: number
  /** Wall-clock bound of the mix, in milliseconds. */
  readonly durationMs: number
  readonly concurrency: number
  /** Customers registered for the run, each with a checking and a savings account. */
  readonly customers: number
  readonly admin?: { readonly username: string; readonly password: string } | undefined
  readonly seed?: number
  readonly progress?: "bar" | "lines" | "none"
  /** Where the progress goes (default stderr). */
  readonly progressStream?: NodeJS.WriteStream
  /** Per-request timeout in milliseconds (default 10 s). */
  readonly timeoutMs?: number
}

export interface OpStats {
  readonly name: string
  count: number
  ok: number
  clientErrors: number
  serverErrors: number
  /** No HTTP answer (connection refused, reset, timeout). */
  failures: number
  readonly latencies: Array<number>
}

export interface Summary {
  readonly ops: number
  readonly elapsedMs: number
  readonly operations: ReadonlyArray<OpStats>
  readonly total: OpStats
  /** Operations of the mix the gateway does not offer yet (not in its OpenAPI). */
  readonly skipped: ReadonlyArray<string>
}

// ---------------------------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG, so a given seed always produces the same mix. */
const prng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!

const newStats = (name: string): OpStats => ({
  name,
  count: 0,
  ok: 0,
  clientErrors: 0,
  serverErrors: 0,
  failures: 0,
  latencies: []
})

interface Answer {
  readonly status: number
  readonly body: any
}

interface Customer {
  readonly username: string
  readonly password: string
  readonly userId: string
  token: string
  readonly accounts: Array<string>
}

class Client {
  readonly stats = new Map<string, OpStats>()
  readonly base: string
  readonly timeoutMs: number
  constructor(base: string, timeoutMs: number) {
    this.base = base
    this.timeoutMs = timeoutMs
  }

  stat(name: string): OpStats {
    let s = this.stats.get(name)
    if (!s) this.stats.set(name, (s = newStats(name)))
    return s
  }

  /** One request, recorded under `name`; `undefined` when no HTTP answer came. */
  async call(
    name: string,
    method: string,
    path: string,
    options: {
      readonly token?: string | undefined
      readonly body?: unknown
      readonly headers?: Record<string, string> | undefined
    } = {}
  ): Promise<Answer | undefined> {
    const s = this.stat(name)
    s.count++
    const started = performance.now()
    try {
      const response = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          ...(options.body === undefined ? {} : { "content-type": "application/json" }),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers
        },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(this.timeoutMs)
      })
      const text = await response.text()
      s.latencies.push(performance.now() - started)
      if (response.status >= 500) s.serverErrors++
      else if (response.status >= 400) s.clientErrors++
      else s.ok++
      let body: unknown = text
      try {
        body = text === "" ? undefined : JSON.parse(text)
      } catch {
        // not JSON
      }
      return { status: response.status, body }
    } catch {
      s.latencies.push(performance.now() - started)
      s.failures++
      return undefined
    }
  }
}

const amount = (random: () => number, max: number) => (1 + random() * (max - 1)).toFixed(2)

/** The paths the gateway's OpenAPI document lists (empty when it cannot be read). */
const discover = async (base: string): Promise<ReadonlySet<string>> => {
  try {
    const response = await fetch(`${base}/openapi.json`, { signal: AbortSignal.timeout(5_000) })
    if (!response.ok) return new Set()
    const doc = (await response.json()) as { paths?: Record<string, unknown> }
    return new Set(Object.keys(doc.paths ?? {}))
  } catch {
    return new Set()
  }
}

/** One operation of the mix: `n` numbers it (idempotency keys). */
type Operation = (random: () => number, n: number) => Promise<void>

interface Mix {
  readonly name: string
  readonly weight: number
  readonly run: Operation
}

/** Runs the load; resolves with the summary. Throws when the set-up (customers) fails. */
export const run = async (options: LoadOptions): Promise<Summary> => {
  const base = options.url.replace(/\/+$/, "")
  const random = prng(options.seed ?? 1)
  const runId = `${Date.now().toString(36)}${Math.floor(random() * 1e6).toString(36)}`
  const client = new Client(base, options.timeoutMs ?? 10_000)
  const paths = await discover(base)

  // --- set-up: customers with two accounts each; the admin, when known -----------------------
  const customers: Array<Customer> = []
  for (let i = 0; i < options.customers; i++) {
    const username = `load${runId}c${i}`
    const password = `load password ${runId} ${i}`
    const registered = await client.call("register", "POST", "/api/auth/register", {
      body: { username, name: `Load Customer ${i}`, email: `${username}@example.com`, password }
    })
    if (registered?.status !== 201) continue
    const login = await client.call("login", "POST", "/api/auth/login", { body: { username, password } })
    if (login?.status !== 200) continue
    const customer: Customer = {
      username,
      password,
      userId: registered.body.id,
      token: login.body.access_token,
      accounts: []
    }
    for (const [type, initial] of [
      ["checking", "500.00"],
      ["savings", "100.00"]
    ] as const) {
      const opened = await client.call("open account", "POST", "/api/accounts", {
        token: customer.token,
        body: { account_type: type, initial_deposit: initial }
      })
      if (opened?.status === 201) customer.accounts.push(opened.body.id)
    }
    if (customer.accounts.length > 0) customers.push(customer)
  }
  if (customers.length === 0) {
    const register = client.stat("register")
    throw new Error(
      `could not set up any customer at ${base} (register: ${register.count} sent, ${register.ok} ok, ${register.clientErrors} 4xx, ${register.serverErrors} 5xx, ${register.failures} without answer)`
    )
  }
  let adminToken: string | undefined
  if (options.admin) {
    const login = await client.call("login", "POST", "/api/auth/login", { body: options.admin })
    if (login?.status === 200) adminToken = login.body.access_token
  }

  // --- the mix -------------------------------------------------------------------------------
  const pick = <A>(xs: ReadonlyArray<A>, r: () => number): A => xs[Math.floor(r() * xs.length)]!
  /** A customer request; a 401 (expired token) logs the customer in again. */
  const as = async (
    c: Customer,
    name: string,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>
  ) => {
    const answer = await client.call(name, method, path, { token: c.token, body, headers })
    if (answer?.status === 401) {
      const login = await client.call("login", "POST", "/api/auth/login", {
        body: { username: c.username, password: c.password }
      })
      if (login?.status === 200) c.token = login.body.access_token
    }
    return answer
  }
  const tampered = (token: string) => `${token.slice(0, -4)}${token.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`

  const mix: Array<Mix> = [
    {
      name: "login",
      weight: 3,
      run: async (r) => {
        const customer = pick(customers, r)
        const login = await client.call("login", "POST", "/api/auth/login", {
          body: { username: customer.username, password: customer.password }
        })
        if (login?.status === 200) customer.token = login.body.access_token
      }
    },
    {
      // one attacked username: 401s, then the per-username login limit answers 429
      name: "login (wrong password)",
      weight: 2,
      run: async () => {
        await client.call("login (wrong password)", "POST", "/api/auth/login", {
          body: { username: `load${runId}mallory`, password: "guess guess guess" }
        })
      }
    },
    { name: "me", weight: 4, run: async (r) => void (await as(pick(customers, r), "me", "GET", "/api/me")) },
    {
      name: "list accounts",
      weight: 10,
      run: async (r) => void (await as(pick(customers, r), "list accounts", "GET", "/api/accounts"))
    },
    {
      name: "get account",
      weight: 10,
      run: async (r) => {
        const c = pick(customers, r)
        await as(c, "get account", "GET", `/api/accounts/${pick(c.accounts, r)}`)
      }
    },
    {
      name: "account history",
      weight: 8,
      run: async (r) => {
        const c = pick(customers, r)
        await as(c, "account history", "GET", `/api/accounts/${pick(c.accounts, r)}/transactions`)
      }
    },
    {
      name: "notifications",
      weight: 8,
      run: async (r) => void (await as(pick(customers, r), "notifications", "GET", "/api/notifications?limit=20"))
    },
    {
      name: "deposit",
      weight: 12,
      run: async (r, n) => {
        const c = pick(customers, r)
        await as(
          c,
          "deposit",
          "POST",
          `/api/accounts/${pick(c.accounts, r)}/deposits`,
          { amount: amount(r, 200) },
          { "idempotency-key": `load-${runId}-${n}` }
        )
      }
    },
    {
      // up to 300.00 from accounts that often hold less: some are refused (422 insufficient funds)
      name: "withdrawal",
      weight: 6,
      run: async (r, n) => {
        const c = pick(customers, r)
        await as(
          c,
          "withdrawal",
          "POST",
          `/api/accounts/${pick(c.accounts, r)}/withdrawals`,
          { amount: amount(r, 300) },
          { "idempotency-key": `load-${runId}-${n}` }
        )
      }
    },
    {
      name: "transfer",
      weight: 12,
      run: async (r, n) => {
        const c = pick(customers, r)
        const from = pick(c.accounts, r)
        const others = customers.flatMap((x) => x.accounts).filter((a) => a !== from)
        if (others.length === 0) return
        await as(
          c,
          "transfer",
          "POST",
          "/api/transfers",
          { from_account_id: from, to_account_id: pick(others, r), amount: amount(r, 150) },
          { "idempotency-key": `load-${runId}-${n}` }
        )
      }
    },
    {
      name: "tampered token",
      weight: 1,
      run: async (r) => {
        await client.call("tampered token", "GET", "/api/accounts", { token: tampered(pick(customers, r).token) })
      }
    }
  ]
  if (adminToken) {
    const token = adminToken
    mix.push({
      name: "list users (admin)",
      weight: 2,
      run: async () => void (await client.call("list users (admin)", "GET", "/api/users?limit=20", { token }))
    })
  }
  // Operations of services the gateway may not offer yet: present when its OpenAPI lists them.
  const optional: ReadonlyArray<{ readonly path: string; readonly mix: ReadonlyArray<Mix> }> = [
    {
      path: "/api/v1/buy",
      mix: [
        {
          name: "purchase",
          weight: 8,
          run: async (r) => {
            const c = pick(customers, r)
            await as(c, "purchase", "POST", "/api/v1/buy", {
              username: c.username,
              userid: c.userId,
              price: amount(r, 120)
            })
          }
        },
        {
          name: "list purchases",
          weight: 3,
          run: async (r) => {
            const c = pick(customers, r)
            await as(c, "list purchases", "GET", `/api/v1/purchases/${c.userId}`)
          }
        }
      ]
    },
    {
      path: "/api/v1/ingest",
      mix: [
        {
          name: "ingest",
          weight: 8,
          run: async (r) => {
            const c = pick(customers, r)
            const records = Array.from({ length: 1 + Math.floor(r() * 5) }, () => ({
              type: pick(["page_view", "click", "signup", "search"], r),
              source: pick(["web", "mobile", "partner-api"], r),
              data: { user: c.userId, value: Math.floor(r() * 1000) }
            }))
            await as(c, "ingest", "POST", "/api/v1/ingest", records.length === 1 ? records[0] : records)
          }
        },
        {
          name: "ingest stats",
          weight: 1,
          run: async (r) => void (await as(pick(customers, r), "ingest stats", "GET", "/api/v1/ingest/stats"))
        }
      ]
    },
    {
      path: "/api/jobs",
      mix: [
        {
          // an account statement (CSV) of one of the customer's accounts, run as a durable workflow
          name: "start job",
          weight: 1,
          run: async (r) => {
            const c = pick(customers, r)
            await as(c, "start job", "POST", "/api/jobs", {
              job_name: "monthly statement",
              kind: "account_statement",
              params: { account_id: pick(c.accounts, r) }
            })
          }
        },
        {
          name: "list jobs",
          weight: 2,
          run: async (r) => void (await as(pick(customers, r), "list jobs", "GET", "/api/jobs"))
        }
      ]
    }
  ]
  const skipped: Array<string> = []
  for (const o of optional)
    if (paths.has(o.path)) mix.push(...o.mix)
    else skipped.push(`${o.mix.map((m) => m.name).join(", ")} (no ${o.path})`)

  const totalWeight = mix.reduce((s, m) => s + m.weight, 0)
  const choose = (r: () => number): Mix => {
    let x = r() * totalWeight
    for (const m of mix) if ((x -= m.weight) < 0) return m
    return mix[mix.length - 1]!
  }

  const started = performance.now()
  const deadline = started + options.durationMs
  let issued = 0
  let done = 0
  const progress = startProgress(options, () => ({ done, client, started }))
  const worker = async () => {
    while (issued < options.ops && performance.now() < deadline) {
      const n = issued++
      // every operation once first (coverage for short runs), then the weighted mix
      await (n < mix.length ? mix[n]! : choose(random)).run(random, n)
      done++
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker))
  } finally {
    progress.stop()
  }
  const elapsedMs = performance.now() - started
  const operations = [...client.stats.values()].sort((a, b) => b.count - a.count)
  const total = newStats("total")
  for (const s of operations) {
    total.count += s.count
    total.ok += s.ok
    total.clientErrors += s.clientErrors
    total.serverErrors += s.serverErrors
    total.failures += s.failures
    total.latencies.push(...s.latencies)
  }
  return { ops: done, elapsedMs, operations, total, skipped }
}

// --- progress and summary ------------------------------------------------------------------------

const totals = (client: Client) => {
  let count = 0
  let ok = 0
  let c4 = 0
  let c5 = 0
  let failed = 0
  for (const s of client.stats.values()) {
    count += s.count
    ok += s.ok
    c4 += s.clientErrors
    c5 += s.serverErrors
    failed += s.failures
  }
  return { count, ok, c4, c5, failed }
}

const pct = (part: number, whole: number) => (whole === 0 ? "0.0%" : `${((part / whole) * 100).toFixed(1)}%`)

const startProgress = (
  options: LoadOptions,
  state: () => { readonly done: number; readonly client: Client; readonly started: number }
) => {
  const stream = options.progressStream ?? process.stderr
  const mode = options.progress ?? (stream.isTTY ? "bar" : "lines")
  if (mode === "none") return { stop: () => {} }
  const line = () => {
    const { done, client, started } = state()
    const elapsed = (performance.now() - started) / 1000
    const fraction = Math.min(1, Math.max(done / options.ops, (elapsed * 1000) / options.durationMs))
    const width = 24
    const filled = Math.round(fraction * width)
    const t = totals(client)
    return (
      `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ` +
      `${done}/${options.ops} ops  ${(done / Math.max(elapsed, 0.001)).toFixed(0)} ops/s  ` +
      `ok ${pct(t.ok, t.count)}  4xx ${pct(t.c4, t.count)}  5xx ${pct(t.c5, t.count)}  ` +
      `errors ${t.failed}  ${elapsed.toFixed(0)}s`
    )
  }
  const timer = setInterval(
    () => (mode === "bar" ? stream.write(`\r${line()}\x1b[K`) : stream.write(`${line()}\n`)),
    mode === "bar" ? 200 : 5_000
  )
  return {
    stop: () => {
      clearInterval(timer)
      stream.write(mode === "bar" ? `\r${line()}\x1b[K\n` : `${line()}\n`)
    }
  }
}

/** The summary as a text table. */
export const table = (summary: Summary): string => {
  const ms = (x: number) => (Number.isNaN(x) ? "-" : x.toFixed(1))
  const header = ["operation", "ops", "ok", "4xx", "5xx", "errors", "p50 ms", "p99 ms"]
  const row = (s: OpStats) => {
    const sorted = [...s.latencies].sort((a, b) => a - b)
    return [
      s.name,
      String(s.count),
      String(s.ok),
      String(s.clientErrors),
      String(s.serverErrors),
      String(s.failures),
      ms(percentile(sorted, 0.5)),
      ms(percentile(sorted, 0.99))
    ]
  }
  const rows = [header, ...summary.operations.map(row), row(summary.total)]
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const format = (r: ReadonlyArray<string>) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ")
  const rule = widths.map((w) => "-".repeat(w)).join("  ")
  const lines = [format(header), rule, ...rows.slice(1, -1).map(format), rule, format(rows[rows.length - 1]!)]
  const seconds = summary.elapsedMs / 1000
  lines.push(
    "",
    `${summary.ops} operations in ${seconds.toFixed(1)} s (${(summary.ops / Math.max(seconds, 0.001)).toFixed(0)} ops/s), ` +
      `${summary.total.count} requests including set-up`
  )
  if (summary.skipped.length > 0) lines.push(`not offered by this gateway yet: ${summary.skipped.join(", ")}`)
  return lines.join("\n")
}

// --- command line ----------------------------------------------------------------------------------

/** "90s", "2m", "1m30s", "500ms" or a number of seconds → milliseconds. */
export const parseDuration = (text: string): number => {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
  let total = 0
  let rest = text
  while (rest.length > 0) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest)
    if (!m) throw new Error(`not a duration: ${text} (e.g. 90s, 2m, 1m30s)`)
    total += Number(m[1]) * units[m[2]!]!
    rest = rest.slice(m[0].length)
  }
  return total
}

/** The admin's credentials from ADMIN_PASSWORD or a secrets.json (DATA_DIR, .data, .stack). */
export const adminCredentials = (
  env: NodeJS.ProcessEnv,
  cwd: string
): { readonly username: string; readonly password: string } | undefined => {
  const username = env.ADMIN_USERNAME ?? "admin"
  if (env.ADMIN_PASSWORD) return { username, password: env.ADMIN_PASSWORD }
  const dirs = env.DATA_DIR ? [env.DATA_DIR] : [".data", ".stack"]
  for (const dir of dirs) {
    const file = resolve(cwd, dir, "secrets.json")
    if (existsSync(file)) {
      const secrets = JSON.parse(readFileSync(file, "utf8")) as { adminPassword?: string }
      if (secrets.adminPassword) return { username, password: secrets.adminPassword }
    }
  }
  return undefined
}

const main = async () => {
  const { values } = parseArgs({
    options: {
      url: { type: "string", default: process.env.GATEWAY_URL ?? "http://localhost:8080" },
      ops: { type: "string", default: "2000" },
      duration: { type: "string", default: "60s" },
      concurrency: { type: "string", default: "8" },
      customers: { type: "string", default: "8" },
      seed: { type: "string", default: "1" },
      progress: { type: "string" },
      help: { type: "boolean", default: false }
    }
  })
  if (values.help) {
    console.log(
      "npm run load -- [--url http://localhost:8080] [--ops 2000] [--duration 60s] [--concurrency 8] [--customers 8] [--seed 1] [--progress bar|lines|none]"
    )
    return
  }
  const int = (name: string, text: string) => {
    const n = Number(text)
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} expects a positive integer, got ${text}`)
    return n
  }
  const progress = values.progress
  if (progress !== undefined && !["bar", "lines", "none"].includes(progress))
    throw new Error(`--progress expects bar, lines or none, got ${progress}`)
  const admin = adminCredentials(process.env, process.env.INIT_CWD ?? process.cwd())
  const options: LoadOptions = {
    url: values.url,
    ops: int("ops", values.ops),
    durationMs: parseDuration(values.duration),
    concurrency: int("concurrency", values.concurrency),
    customers: int("customers", values.customers),
    seed: int("seed", values.seed),
    admin,
    ...(progress ? { progress: progress as "bar" | "lines" | "none" } : {})
  }
  console.error(
    `load: ${options.url}, at most ${options.ops} operations or ${values.duration}, ${options.concurrency} concurrent, ` +
      `${options.customers} customers${admin ? "" : " (no admin password found: admin operations skipped)"}`
  )
  const summary = await run(options)
  console.log(table(summary))
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: Error) => {
    console.error(`load: ${error.message}`)
    process.exit(1)
  })
}
