// The service host, exercised as a real child process (the example tasks service).
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { mkdtempSync, rmSync } from "node:fs"
import * as http from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { freePort, parsePrometheus, type Running, start } from "./process.ts"
import { AMQP_URL, createDatabase, postgresAvailable, rabbitAvailable } from "./services.ts"

const example = fileURLToPath(new URL("../example/tasks.ts", import.meta.url))
const node = process.execPath

const json = async (response: Response) => ({
  status: response.status,
  type: response.headers.get("content-type"),
  body: (await response.json()) as any
})

describe("service host (embedded database, in-process broker)", () => {
  let dir: string
  let service: Running
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "troupe-host-"))
    service = await start(node, [example], { DATA_DIR: dir })
  })
  afterAll(async () => {
    await service?.stop("SIGKILL")
    rmSync(dir, { recursive: true, force: true })
  })

  it("serves liveness, readiness with its checks, and service info", async () => {
    const live = await json(await fetch(`${service.url}/health/live`))
    assert.deepStrictEqual(live, { status: 200, type: "application/json", body: { status: "ok" } })
    const ready = await json(await fetch(`${service.url}/health/ready`))
    assert.strictEqual(ready.status, 200)
    assert.strictEqual(ready.body.status, "ready")
    for (const check of ["database", "actor:consumer:tasks", "actor:outbox-relay"])
      assert.deepStrictEqual(ready.body.checks[check], { ok: true })
    const info = await json(await fetch(`${service.url}/api/v1/info`))
    assert.strictEqual(info.body.service, "tasks")
    assert.match(info.body.runtime, /^node 24\./)
  })

  it("exposes /metrics that parse as Prometheus text, with HTTP RED by route template", async () => {
    for (let i = 0; i < 3; i++) await fetch(`${service.url}/api/v1/tasks/0190a000-0000-7000-8000-00000000beef`)
    await fetch(`${service.url}/no/such/route`)
    // A method outside the standard set is labelled OTHER (clients cannot mint series).
    await new Promise<void>((resolve) => {
      const request = http.request(`${service.url}/no/such/route`, { method: "PROPFIND" }, (response) => {
        response.resume()
        response.on("end", resolve)
      })
      request.end()
    })
    const response = await fetch(`${service.url}/metrics`)
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/)
    const { samples, types } = parsePrometheus(await response.text())
    assert.strictEqual(types.get("troupe_http_requests_total"), "counter")
    assert.strictEqual(types.get("troupe_http_request_duration_seconds"), "histogram")
    const notFound = samples.find(
      (s) =>
        s.name === "troupe_http_requests_total" && s.labels.route === "/api/v1/tasks/:id" && s.labels.status === "4xx"
    )
    assert.strictEqual(notFound?.value, 3)
    assert.strictEqual(notFound!.labels.service, "tasks")
    const sample = (name: string, labels: Record<string, string>) =>
      samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
    const route = { route: "/api/v1/tasks/:id", method: "GET" }
    // Every status class of a route exists from its first request; the latency histogram counts each request.
    assert.strictEqual(sample("troupe_http_requests_total", { ...route, status: "5xx" }), 0)
    assert.strictEqual(sample("troupe_http_requests_total", { ...route, status: "2xx" }), 0)
    assert.strictEqual(sample("troupe_http_request_duration_seconds_count", route), 3)
    assert.strictEqual(sample("troupe_http_request_duration_seconds_bucket", { ...route, le: "+Inf" }), 3)
    assert.strictEqual(sample("troupe_http_requests_total", { route: "unmatched", method: "GET", status: "4xx" }), 1)
    assert.strictEqual(sample("troupe_http_requests_total", { route: "unmatched", method: "OTHER", status: "4xx" }), 1)
    assert.isFalse(samples.some((s) => s.labels.method === "PROPFIND"))
    assert.isTrue(samples.some((s) => s.name === "process_resident_memory_bytes"))
    assert.isTrue(
      samples.some((s) => s.name === "troupe_actor_up" && s.labels.actor === "outbox-relay" && s.value === 1)
    )
    assert.isFalse(
      samples.some((s) => s.labels.route?.includes("beef")),
      "no ids in labels"
    )
  })

  it("answers bad input with 4xx problem bodies, never 5xx", async () => {
    const post = (body: string, headers: Record<string, string> = { "content-type": "application/json" }) =>
      fetch(`${service.url}/api/v1/tasks`, { method: "POST", headers, body })
    const cases: Array<[string, Response]> = [
      ["malformed JSON", await post('{"title": ')],
      ["wrong types", await post(JSON.stringify({ title: 42, workMs: "slow" }))],
      ["out of range", await post(JSON.stringify({ title: "x", workMs: -5 }))],
      ["missing fields", await post("{}")],
      ["not JSON at all", await post("title=x", { "content-type": "application/x-www-form-urlencoded" })],
      ["oversized body", await post(JSON.stringify({ title: "x".repeat(2 * 1024 * 1024), workMs: 1 }))],
      ["bad path parameter", await fetch(`${service.url}/api/v1/tasks/not-a-uuid`)],
      ["unknown route", await fetch(`${service.url}/api/v1/nothing-here`)]
    ]
    for (const [what, response] of cases) {
      assert.isAtLeast(response.status, 400, what)
      assert.isBelow(response.status, 500, what)
      assert.match(response.headers.get("content-type") ?? "", /json/, what)
      const body = (await response.json()) as { title?: string; status?: number }
      assert.strictEqual(body.status, response.status, `${what}: problem body carries the status`)
      assert.isString(body.title, what)
      // Also on the responses the host makes itself (413 before the route, 404 from the router).
      assert.match(response.headers.get("x-request-id") ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/, what)
    }
    assert.strictEqual(cases.find(([w]) => w === "oversized body")![1].status, 413)
    const list = (await json(await fetch(`${service.url}/api/v1/tasks`))).body as Array<unknown>
    assert.strictEqual(list.length, 0, "nothing was written")
  })

  it("refuses hostile bodies and paths before any parser sees them: 413, 400, never 5xx", async () => {
    const raw = (body: BodyInit, headers: Record<string, string> = { "content-type": "application/json" }) =>
      fetch(`${service.url}/api/v1/tasks`, { method: "POST", headers, body })
    const chunked = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 3; i++) controller.enqueue(new TextEncoder().encode("x".repeat(1024 * 1024)))
        controller.close()
      }
    })
    const tooBigChunked = await fetch(`${service.url}/api/v1/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: chunked,
      duplex: "half"
    } as RequestInit)
    assert.strictEqual(tooBigChunked.status, 413, "a chunked body over MAX_BODY_BYTES")
    const notUtf8 = await raw(
      new Uint8Array([0x7b, 0x22, 0x74, 0x69, 0x74, 0x6c, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])
    )
    assert.strictEqual(notUtf8.status, 400)
    assert.strictEqual(((await notUtf8.json()) as { detail: string }).detail, "the request body is not valid UTF-8")
    const deep = await raw(`{"title":"x","workMs":1,"extra":${"[".repeat(100_000)}${"]".repeat(100_000)}}`)
    assert.strictEqual(deep.status, 400)
    assert.match(((await deep.json()) as { detail: string }).detail, /nests deeper than 64 levels/)
    // Brackets inside strings are text, not nesting.
    const bracketsInText = await raw(JSON.stringify({ title: "[".repeat(1000), workMs: 1 }))
    assert.strictEqual(bracketsInText.status, 422, "reaches schema validation (title too long), not the depth check")
    const nul = await raw('{"title":"a\\u0000b","workMs":1}')
    assert.strictEqual(nul.status, 400, "a NUL character, which PostgreSQL text cannot hold")
    assert.match(((await nul.json()) as { detail: string }).detail, /NUL/)
    const escapedBackslash = await raw('{"title":"a\\\\u0000b","workMs":1}')
    assert.strictEqual(escapedBackslash.status, 202, "a backslash followed by the text u0000 is fine")
    const nulInQuery = await fetch(`${service.url}/api/v1/tasks?x=%00`)
    assert.strictEqual(nulInQuery.status, 400, "%00 in the URL")
    const longParam = await fetch(`${service.url}/api/v1/tasks/${"x".repeat(500)}`)
    assert.strictEqual(longParam.status, 400, "an over-long path parameter fails its schema")
    const badEncoding = await fetch(`${service.url}/api/v1/tasks/%ff%fe`)
    assert.strictEqual(badEncoding.status, 400, "a path that is not percent-encoded UTF-8")
    for (const r of [tooBigChunked, notUtf8, deep, nul, nulInQuery, longParam, badEncoding])
      assert.match(r.headers.get("content-type") ?? "", /problem\+json/)
    assert.strictEqual((await fetch(`${service.url}/health/live`)).status, 200)
  })

  it("propagates and generates request ids", async () => {
    const given = await fetch(`${service.url}/health/live`, { headers: { "x-request-id": "req-123" } })
    assert.strictEqual(given.headers.get("x-request-id"), "req-123")
    const generated = await fetch(`${service.url}/health/live`)
    assert.match(generated.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/)
    const hostile = await fetch(`${service.url}/health/live`, { headers: { "x-request-id": "a b<script>" } })
    assert.match(
      hostile.headers.get("x-request-id") ?? "",
      /^[0-9a-f-]{36}$/,
      "an id that is not a plain token is replaced"
    )
    const missing = await fetch(`${service.url}/no/such/route`, { headers: { "x-request-id": "req-404" } })
    assert.strictEqual(missing.status, 404)
    assert.strictEqual(missing.headers.get("x-request-id"), "req-404")
  })
})

describe("start-up failures are one clear line and exit code 1", () => {
  const failStart = async (env: Record<string, string>, port?: number) => {
    const service = await start(node, [example], env, { waitReady: false, ...(port ? { port } : {}) })
    const code = await Promise.race([service.exited, new Promise<"hung">((r) => setTimeout(() => r("hung"), 20_000))])
    if (code === "hung") await service.stop("SIGKILL")
    return { code, output: service.output().trim() }
  }

  it("names a bad config variable", async () => {
    const { code, output } = await failStart({ PORT: "not-a-port" }, 1)
    assert.strictEqual(code, 1)
    assert.match(output, /^cannot start: invalid configuration: .*PORT/m)
  })

  it("names an unreachable database without leaking its password", async () => {
    const { code, output } = await failStart({ DATABASE_URL: "postgres://app:s3cret@127.0.0.1:1/app" })
    assert.strictEqual(code, 1)
    assert.match(output, /cannot start: .*DATABASE_URL postgres:\/\/app@127\.0\.0\.1:1\/app/)
    assert.notInclude(output, "s3cret")
  })

  it("names an unreachable broker without leaking its password", async () => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-broker-"))
    try {
      const { code, output } = await failStart({ DATA_DIR: dir, AMQP_URL: "amqp://app:hunter2@127.0.0.1:1" })
      assert.strictEqual(code, 1)
      assert.match(output, /cannot start: .*AMQP_URL amqp:\/\/app@127\.0\.0\.1:1.*ECONNREFUSED/)
      assert.notInclude(output, "hunter2")
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("names a port that is already in use", async () => {
    const dir = mkdtempSync(join(tmpdir(), "troupe-port-"))
    const port = await freePort()
    const first = await start(node, [example], { DATA_DIR: join(dir, "a") }, { port })
    try {
      const { code, output } = await failStart({ DATA_DIR: join(dir, "b") }, port)
      assert.strictEqual(code, 1)
      assert.match(output, new RegExp(`cannot start: port ${port} on 127\\.0\\.0\\.1 is already in use`))
    } finally {
      await first.stop("SIGKILL")
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe.skipIf(!postgresAvailable || !rabbitAvailable)("graceful shutdown (PostgreSQL + RabbitMQ)", () => {
  it("on SIGTERM finishes in-flight requests and messages, then exits 0", async () => {
    const db = await createDatabase()
    const env = { DATABASE_URL: db.url, AMQP_URL }
    try {
      const service = await start(node, [example], env)
      const submitted = await json(
        await fetch(`${service.url}/api/v1/tasks`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ title: "slow", workMs: 2000 })
        })
      )
      assert.strictEqual(submitted.status, 202)
      const id = submitted.body.id as string
      // Wait until the worker is in the middle of the task.
      for (let i = 0; i < 100; i++) {
        const t = await json(await fetch(`${service.url}/api/v1/tasks/${id}`))
        if (t.body.status === "running") break
        await new Promise((r) => setTimeout(r, 50))
      }
      const inFlight = fetch(`${service.url}/api/v1/tasks/${id}?waitMs=10000`).then(json)
      await new Promise((r) => setTimeout(r, 200))
      const code = await service.stop("SIGTERM")
      const answer = await inFlight
      assert.strictEqual(code, 0, service.output())
      assert.strictEqual(answer.status, 200, "the in-flight request was answered")
      assert.strictEqual(answer.body.status, "done", "the in-flight message was finished before exit")
      assert.match(service.output(), /shutting down: draining in-flight work/)
      // Nothing left behind: after a restart, the task is done and the outbox empty.
      const again = await start(node, [example], env)
      const after = await json(await fetch(`${again.url}/api/v1/tasks/${id}`))
      assert.strictEqual(after.body.status, "done")
      assert.strictEqual(await again.stop("SIGTERM"), 0)
    } finally {
      await db.drop()
    }
  })
})
