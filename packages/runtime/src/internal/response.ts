import { ServerResponse } from "node:http"

// Node's private state of an outgoing message, read to decide whether the strict check can fail.
interface OutgoingState {
  readonly _headerSent: boolean
  readonly _contentLength: unknown
}

/**
 * Node's `ServerResponse`, except that a body handed whole to `end()` with the length its
 * `content-length` declares leaves in one write.
 *
 * `@effect/platform-node` sets `strictContentLength` on every response. With it set, Node's
 * `end(body)` skips its single-final-write path (it checks the length after writing) and queues
 * an empty second chunk, so every response becomes a two-buffer `writev` with its own write
 * request and finish step: 14.6k more instructions per request on bare node:http's 91k
 * (callgrind, 2026-12-07). When no body byte has been written yet and the body's length is
 * the declared one, the check cannot fail: it is made here, and the flag is dropped for this
 * response only. Any other response keeps the flag, so a length mismatch still throws.
 */
export class SingleWriteResponse<Request extends import("node:http").IncomingMessage> extends ServerResponse<Request> {
  override end(chunk?: unknown, encoding?: unknown, callback?: unknown): this {
    const state = this as unknown as OutgoingState
    if (this.strictContentLength && state._headerSent === false && typeof state._contentLength === "number") {
      const length =
        typeof chunk === "string"
          ? Buffer.byteLength(chunk, typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8")
          : chunk instanceof Uint8Array
            ? chunk.byteLength
            : undefined
      if (length === state._contentLength) this.strictContentLength = false
    }
    return super.end(chunk as string, encoding as BufferEncoding, callback as () => void)
  }
}
