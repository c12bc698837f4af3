// The service host's Node response class: a whole body whose length matches leaves in one
// write even with `strictContentLength` set (as @effect/platform-node sets it), and a length
// mismatch still throws.
import { afterEach, assert, describe, it } from "@effect/vitest"
import * as http from "node:http"
import type { AddressInfo, Socket } from "node:net"
import { SingleWriteResponse } from "../src/internal/response.ts"

interface Writes {
  write: number
  writev: number
}

/** A server whose handler answers with `respond`; counts the writes each connection makes. */
const serve = async (
  ServerResponse: typeof http.ServerResponse,
  respond: (response: http.ServerResponse) => void
): Promise<{ readonly url: string; readonly writes: Writes; readonly close: () => Promise<void> }> => {
  const writes: Writes = { write: 0, writev: 0 }
  const server = http.createServer({ ServerResponse }, (_request, response) => respond(response))
  type Write = (...args: Array<unknown>) => void
  server.on("connection", (socket: Socket & { _write: Write; _writev: Write }) => {
    const write = socket._write.bind(socket)
    const writev = socket._writev.bind(socket)
    socket._write = (...args: Array<unknown>) => (writes.write++, write(...args))
    socket._writev = (...args: Array<unknown>) => (writes.writev++, writev(...args))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    writes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

const get = (url: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        let body = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => (body += chunk))
        response.on("end", () => resolve({ status: response.statusCode!, body }))
      })
      .on("error", reject)
  })

/** Answers like @effect/platform-node does: strict length, head with content-length, then the whole body. */
const strictly =
  (body: string, declared = Buffer.byteLength(body)) =>
  (response: http.ServerResponse) => {
    response.strictContentLength = true
    response.writeHead(200, "OK", { "content-type": "text/plain; charset=utf-8", "content-length": String(declared) })
    response.end(body)
  }

describe("SingleWriteResponse", () => {
  let close: (() => Promise<void>) | undefined
  afterEach(async () => {
    await close?.()
    close = undefined
  })

  it("sends the head and a whole body of the declared length in one write", async () => {
    const server = await serve(SingleWriteResponse, strictly("héllo wörld"))
    close = server.close
    assert.deepStrictEqual(await get(server.url), { status: 200, body: "héllo wörld" })
    assert.deepStrictEqual(server.writes, { write: 1, writev: 0 })
  })

  it("is needed: Node's own response writes the same answer as two buffers", async () => {
    // If this starts failing, Node no longer penalizes strictContentLength and the class can go.
    const server = await serve(http.ServerResponse, strictly("héllo wörld"))
    close = server.close
    assert.deepStrictEqual(await get(server.url), { status: 200, body: "héllo wörld" })
    assert.deepStrictEqual(server.writes, { write: 0, writev: 1 })
  })

  it("still refuses a body whose length is not the declared one", async () => {
    const errors: Array<string> = []
    const server = await serve(SingleWriteResponse, (response) => {
      try {
        strictly("hello", 3)(response)
      } catch (error) {
        errors.push((error as NodeJS.ErrnoException).code ?? String(error))
        response.destroy()
      }
    })
    close = server.close
    const outcome = await get(server.url).then(
      (r) => `answered ${r.status} ${JSON.stringify(r.body)}`,
      (e: NodeJS.ErrnoException) => e.code
    )
    assert.deepStrictEqual(errors, ["ERR_HTTP_CONTENT_LENGTH_MISMATCH"])
    assert.notMatch(String(outcome), /^answered/)
  })

  it("leaves a body written in parts to Node's strict check", async () => {
    const errors: Array<string> = []
    const server = await serve(SingleWriteResponse, (response) => {
      response.strictContentLength = true
      response.writeHead(200, { "content-length": "5" })
      response.write("hel")
      try {
        response.end("lo!") // 6 bytes in all: the check must still see the first part
      } catch (error) {
        errors.push((error as NodeJS.ErrnoException).code ?? String(error))
        response.destroy()
      }
    })
    close = server.close
    await get(server.url).catch(() => undefined)
    assert.deepStrictEqual(errors, ["ERR_HTTP_CONTENT_LENGTH_MISMATCH"])
  })
})
