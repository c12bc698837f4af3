// Transport-level abuse against the gateway and a service host (users) in the same process:
// oversized, deep and non-UTF-8 bodies, slow clients, header floods — with the memory sampled.
import { assert, describe, it } from "@effect/vitest"
import { rss } from "../src/Microbank.ts"
import * as RawHttp from "../src/RawHttp.ts"
import type { World } from "./world.ts"

/** The slow-client limits the embedded Microbank runs with in this suite (short, so tests are quick). */
export const limits = { headersTimeoutMs: 2_000, requestTimeoutMs: 5_000 }
export const limitsEnv = {
  HTTP_HEADERS_TIMEOUT: `${limits.headersTimeoutMs} millis`,
  HTTP_REQUEST_TIMEOUT: `${limits.requestTimeoutMs} millis`
}

const MiB = 1024 * 1024

export const transportAbuse = (world: () => World) =>
  describe("transport-level abuse", () => {
    const targets = () => {
      const gateway = Number(new URL(world().microbank.url).port)
      const users = world().microbank.servicePorts().users
      assert.isDefined(users, "the users service host's port is in the log")
      return [
        { name: "gateway", port: gateway, path: "/api/auth/login", limit: 5 * MiB },
        { name: "users service", port: users!, path: "/users/verify-password", limit: 1 * MiB }
      ]
    }
    const post = (port: number, path: string, body: string | Uint8Array, extra = "") =>
      RawHttp.request(
        port,
        `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}`,
        body
      )
    const problem = (outcome: RawHttp.Outcome) => JSON.parse(outcome.body) as { status: number; detail?: string }

    it("oversized bodies get 413 (with content-length and chunked), deep JSON and invalid UTF-8 get 400", async () => {
      for (const target of targets()) {
        const big = "x".repeat(target.limit + 1)
        const declared = await post(target.port, target.path, big)
        assert.strictEqual(declared.status, 413, `${target.name}: content-length over the limit`)
        const chunked = await RawHttp.exchange(target.port, (socket) => {
          socket.write(
            `POST ${target.path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n`
          )
          const chunk = "y".repeat(256 * 1024)
          for (let sent = 0; sent <= target.limit; sent += chunk.length)
            socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)
          socket.write("0\r\n\r\n")
        })
        assert.strictEqual(chunked.status, 413, `${target.name}: chunked body over the limit`)
        const deep = await post(target.port, target.path, "[".repeat(100_000) + "]".repeat(100_000))
        assert.strictEqual(deep.status, 400, `${target.name}: 100 000 levels of nesting`)
        assert.match(problem(deep).detail ?? "", /nests deeper than/)
        const deepField = await post(
          target.port,
          target.path,
          `{"username":${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)},"password":"x"}`
        )
        assert.strictEqual(deepField.status, 400, `${target.name}: deep nesting inside a field`)
        const notUtf8 = await post(
          target.port,
          target.path,
          new Uint8Array([...Buffer.from('{"username":"'), 0xc3, 0x28, ...Buffer.from('","password":"xxxxxxxx"}')])
        )
        assert.strictEqual(notUtf8.status, 400, `${target.name}: invalid UTF-8`)
        assert.strictEqual(problem(notUtf8).detail, "the request body is not valid UTF-8")
        const overlong = await post(
          target.port,
          target.path,
          new Uint8Array([...Buffer.from('{"username":"'), 0xc0, 0xaf, ...Buffer.from('"}')])
        )
        assert.strictEqual(overlong.status, 400, `${target.name}: overlong UTF-8 encoding of "/"`)
      }
    })

    it("slow clients (headers or body trickled) get 408 or are closed within the configured timeouts", async () => {
      const slack = 2_500
      for (const target of targets()) {
        const [headers, body] = await Promise.all([
          RawHttp.exchange(target.port, (s) =>
            RawHttp.trickle(s, `GET /health/live HTTP/1.1\r\nhost: x\r\nx-slow: ${"a".repeat(1_000)}`, 200)
          ),
          RawHttp.exchange(target.port, (s) => {
            s.write(
              `POST ${target.path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10000\r\n\r\n`
            )
            return RawHttp.trickle(s, "x".repeat(10_000), 200)
          })
        ])
        assert.isTrue(headers.closed, `${target.name}: trickled headers: the server closed the connection`)
        assert.isAtMost(headers.elapsed, limits.headersTimeoutMs + slack, `${target.name}: trickled headers`)
        assert.oneOf(headers.status, [408, undefined], `${target.name}: ${headers.statusLine}`)
        assert.isTrue(body.closed, `${target.name}: trickled body: the server closed the connection`)
        assert.isAtMost(body.elapsed, limits.requestTimeoutMs + slack, `${target.name}: trickled body`)
        assert.oneOf(body.status, [408, undefined], `${target.name}: ${body.statusLine}`)
      }
    })

    it("300 slowloris connections do not keep others from being served", async () => {
      const target = targets()[0]!
      const slow = Array.from({ length: 300 }, () =>
        RawHttp.exchange(target.port, (s) =>
          RawHttp.trickle(
            s,
            "GET /health/live HTTP/1.1\r\nhost: x\r\nx-a: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            500
          )
        )
      )
      await new Promise((r) => setTimeout(r, 500))
      const started = Date.now()
      const live = await fetch(`${world().microbank.url}/health/live`)
      assert.strictEqual(live.status, 200)
      assert.isBelow(Date.now() - started, 1_000, "a normal request is answered at once")
      const outcomes = await Promise.all(slow)
      assert.isTrue(
        outcomes.every((o) => o.closed),
        "every slow connection was closed"
      )
    })

    it("header floods get 431 (huge header, many headers, huge URL), never a crash", async () => {
      for (const target of targets()) {
        const huge = await RawHttp.request(
          target.port,
          `GET /health/live HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(100_000)}`
        )
        assert.strictEqual(huge.status, 431, `${target.name}: one 100 kB header`)
        const many = await RawHttp.request(
          target.port,
          `GET /health/live HTTP/1.1\r\nhost: x\r\n${Array.from({ length: 5_000 }, (_, i) => `x-h${i}: v`).join("\r\n")}`
        )
        assert.strictEqual(many.status, 431, `${target.name}: 5 000 headers`)
        const url = await RawHttp.request(target.port, `GET /health/live?${"q=1&".repeat(20_000)} HTTP/1.1\r\nhost: x`)
        assert.oneOf(url.status, [414, 431], `${target.name}: 80 kB URL`)
        // Under the limit, many headers are just headers.
        const fine = await RawHttp.request(
          target.port,
          `GET /health/live HTTP/1.1\r\nhost: x\r\n${Array.from({ length: 500 }, (_, i) => `x-h${i}: v`).join("\r\n")}`
        )
        assert.strictEqual(fine.status, 200, `${target.name}: 500 small headers`)
        const requestId = await RawHttp.request(
          target.port,
          `GET /health/live HTTP/1.1\r\nhost: x\r\nx-request-id: ${"r".repeat(5_000)}<script>`
        )
        assert.strictEqual(requestId.status, 200, `${target.name}: a hostile x-request-id`)
        assert.match(
          requestId.head,
          /x-request-id: [0-9a-f-]{36}\r\n/i,
          `${target.name}: a hostile request id is replaced`
        )
        const junk = await RawHttp.request(
          target.port,
          "GET /health/live HTTP/1.1\r\nhost: x\r\nbad header line without colon"
        )
        assert.strictEqual(junk.status, 400, `${target.name}: a malformed header line`)
        const smuggle = await RawHttp.request(
          target.port,
          `POST ${target.path} HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked`,
          "0\r\n\r\n"
        )
        assert.strictEqual(
          smuggle.status,
          400,
          `${target.name}: content-length with transfer-encoding (request smuggling)`
        )
      }
    })

    it("memory stays bounded through a flood of rejected bodies, and the process stays up", async () => {
      const pid = world().microbank.process.pid!
      const target = targets()[0]!
      const before = rss(pid)
      const body = "z".repeat(4 * MiB)
      for (let round = 0; round < 5; round++) {
        await Promise.all([
          ...Array.from({ length: 10 }, () => post(target.port, target.path, body + "z".repeat(2 * MiB))), // 413
          ...Array.from({ length: 10 }, () =>
            post(
              target.port,
              "/api/v1/ingest",
              `{"type":"t","source":"s","data":${"[".repeat(200_000)}${"]".repeat(200_000)}}`
            )
          ), // 400 deep (or 401: no token)
          ...Array.from({ length: 10 }, () =>
            RawHttp.request(target.port, `GET /health/live HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(64_000)}`)
          )
        ])
      }
      const after = rss(pid)
      assert.isTrue(world().microbank.alive(), "the process is up")
      assert.strictEqual((await fetch(`${world().microbank.url}/health/live`)).status, 200)
      assert.isBelow(
        after - before,
        200 * MiB,
        `RSS grew from ${(before / MiB).toFixed(0)} to ${(after / MiB).toFixed(0)} MiB`
      )
    })
  })
