// The load generator against a fake gateway: bounds, the classification of answers, optional
// operations, set-up failures, and its small parsers.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { adminCredentials, parseDuration, percentile, run, table, type Summary } from "../src/load.ts"

interface Fake {
  /** Paths the fake's /openapi.json lists. */
  paths: Array<string>
  /** Registration answers this status (201 = works). */
  registerStatus: number
  readonly seen: Array<string>
}

const fake: Fake = { paths: [], registerStatus: 201, seen: [] }
let server: Server
let url: string

const reply = (res: ServerResponse, status: number, body?: unknown) => {
  res.writeHead(status, { "content-type": "application/json" })
  res.end(body === undefined ? "" : JSON.stringify(body))
}

const handle = async (req: IncomingMessage, res: ServerResponse) => {
  let text = ""
  for await (const chunk of req) text += chunk
  const body = text ? JSON.parse(text) : undefined
  const path = (req.url ?? "").split("?")[0]!
  fake.seen.push(`${req.method} ${path}`)
  const route = `${req.method} ${path.replace(/\/[0-9a-f-]{36}|\/acc-\d+|\/user-\d+/g, "/:id")}`
  switch (route) {
    case "GET /openapi.json":
      return reply(res, 200, { paths: Object.fromEntries(fake.paths.map((p) => [p, {}])) })
    case "POST /api/auth/register":
      return reply(res, fake.registerStatus, { id: `user-${fake.seen.length}` })
    case "POST /api/auth/login":
      return body.password.startsWith("guess") ? reply(res, 401, {}) : reply(res, 200, { access_token: "t.o.k" })
    case "POST /api/accounts":
      return reply(res, 201, { id: `acc-${fake.seen.length}` })
    case "GET /api/notifications":
      return reply(res, 503, { detail: "notifications is unavailable" })
    case "POST /api/accounts/:id/withdrawals":
      return reply(res, 422, { type: "insufficient-funds" })
    case "POST /api/v1/ingest":
      return reply(res, 202, { status: "accepted" })
    default:
      return req.method === "POST" ? reply(res, 201, {}) : reply(res, 200, [])
  }
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res))
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const op = (s: Summary, name: string) => s.operations.find((o) => o.name === name)

describe("load generator", () => {
  it("stops at --ops, classifies every answer, and runs every operation at least once", async () => {
    fake.paths = []
    const summary = await run({ url, ops: 300, durationMs: 60_000, concurrency: 4, customers: 3, progress: "none" })
    assert.strictEqual(summary.ops, 300)
    const notifications = op(summary, "notifications")!
    assert.isAbove(notifications.count, 0)
    assert.strictEqual(notifications.serverErrors, notifications.count, "503 counts as 5xx")
    const withdrawal = op(summary, "withdrawal")!
    assert.strictEqual(withdrawal.clientErrors, withdrawal.count, "422 counts as 4xx")
    assert.strictEqual(op(summary, "login (wrong password)")!.ok, 0)
    for (const name of ["deposit", "transfer", "get account", "account history", "me", "tampered token"])
      assert.isAbove(op(summary, name)?.count ?? 0, 0, name)
    assert.isUndefined(op(summary, "list users (admin)"), "no admin credentials: no admin operation")
    assert.strictEqual(
      summary.total.count,
      summary.operations.reduce((n, o) => n + o.count, 0)
    )
    assert.strictEqual(
      summary.total.count,
      summary.total.ok + summary.total.clientErrors + summary.total.serverErrors + summary.total.failures
    )
    assert.includeMembers(summary.skipped.join(" ").split(/[ ,()]+/), ["purchase", "ingest", "/api/jobs"])
    const text = table(summary)
    assert.match(text, /^operation\s+ops\s+ok\s+4xx\s+5xx\s+errors\s+p50 ms\s+p99 ms$/m)
    assert.match(text, new RegExp(`^total\\s+${summary.total.count}\\s+${summary.total.ok}\\s`, "m"))
  })

  it("stops at --duration", async () => {
    fake.paths = []
    const summary = await run({
      url,
      ops: 1_000_000_000,
      durationMs: 300,
      concurrency: 2,
      customers: 1,
      progress: "none"
    })
    assert.isBelow(summary.ops, 1_000_000_000)
  })

  it("uses the operations the OpenAPI document offers", async () => {
    fake.paths = ["/api/v1/ingest"]
    const summary = await run({ url, ops: 100, durationMs: 60_000, concurrency: 2, customers: 2, progress: "none" })
    assert.isAbove(op(summary, "ingest")?.ok ?? 0, 0)
    assert.isAbove(op(summary, "ingest stats")?.ok ?? 0, 0)
    assert.isUndefined(op(summary, "purchase"))
    assert.notInclude(summary.skipped.join(" "), "ingest")
    assert.include(fake.seen, "POST /api/v1/ingest")
  })

  it("fails when no customer can be set up, and counts requests without an answer", async () => {
    fake.registerStatus = 500
    try {
      await run({ url, ops: 10, durationMs: 1_000, concurrency: 1, customers: 2, progress: "none" })
      assert.fail("expected the set-up to fail")
    } catch (error) {
      assert.match((error as Error).message, /could not set up any customer.*2 sent, 0 ok, 0 4xx, 2 5xx/)
    } finally {
      fake.registerStatus = 201
    }
    try {
      await run({
        url: "http://127.0.0.1:9",
        ops: 10,
        durationMs: 1_000,
        concurrency: 1,
        customers: 1,
        progress: "none"
      })
      assert.fail("expected the set-up to fail")
    } catch (error) {
      assert.match((error as Error).message, /1 without answer/)
    }
  })

  it("parses durations, computes percentiles, finds the admin's password", () => {
    assert.strictEqual(parseDuration("90s"), 90_000)
    assert.strictEqual(parseDuration("1m30s"), 90_000)
    assert.strictEqual(parseDuration("500ms"), 500)
    assert.strictEqual(parseDuration("2"), 2_000)
    assert.throws(() => parseDuration("soon"))
    assert.strictEqual(percentile([1, 2, 3, 4], 0.5), 2)
    assert.strictEqual(percentile([1, 2, 3, 4], 0.99), 4)
    assert.isNaN(percentile([], 0.5))
    const dir = mkdtempSync(join(tmpdir(), "load-"))
    try {
      writeFileSync(join(dir, "secrets.json"), JSON.stringify({ adminPassword: "from-file" }))
      assert.deepStrictEqual(adminCredentials({ DATA_DIR: dir }, "/"), { username: "admin", password: "from-file" })
      assert.deepStrictEqual(adminCredentials({ ADMIN_PASSWORD: "env", ADMIN_USERNAME: "root" }, dir), {
        username: "root",
        password: "env"
      })
      assert.isUndefined(adminCredentials({}, dir))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
