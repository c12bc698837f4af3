/**
 * HTTP over a raw socket, for what a well-behaved client never does: trickle its headers or
 * body, send megabytes of headers, or bytes that are not UTF-8.
 */
import { connect, type Socket } from "node:net"

export interface Outcome {
  /** The status line the server answered with, if any. */
  readonly statusLine: string | undefined
  readonly status: number | undefined
  readonly body: string
  /** Status line and headers as sent. */
  readonly head: string
  /** Milliseconds from connecting until the server closed the connection (or we gave up). */
  readonly elapsed: number
  /** False when we gave up waiting: the server kept the connection open. */
  readonly closed: boolean
}

/**
 * Connects, runs `drive` (which writes whatever it likes), and waits until the server closes
 * the connection or `giveUpMs` passes.
 */
export const exchange = (
  port: number,
  drive: (socket: Socket) => void | (() => void),
  giveUpMs = 60_000
): Promise<Outcome> =>
  new Promise((resolve) => {
    const started = Date.now()
    const socket = connect(port, "127.0.0.1")
    const chunks: Array<Buffer> = []
    let stop: void | (() => void)
    let done = false
    const finish = (closed: boolean) => {
      if (done) return
      done = true
      clearTimeout(timer)
      if (typeof stop === "function") stop()
      socket.destroy()
      const text = Buffer.concat(chunks).toString("latin1")
      const statusLine = text.split("\r\n")[0] || undefined
      const status = statusLine ? Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]) || undefined : undefined
      const [head = "", ...rest] = text.split("\r\n\r\n")
      resolve({ statusLine, status, head, body: rest.join("\r\n\r\n"), elapsed: Date.now() - started, closed })
    }
    const timer = setTimeout(() => finish(false), giveUpMs)
    socket.on("data", (d: Buffer) => chunks.push(d))
    socket.on("error", () => finish(true))
    socket.on("close", () => finish(true))
    socket.on("connect", () => {
      stop = drive(socket)
    })
  })

/** Writes `text` one byte every `everyMs`; returns the function that stops it. */
export const trickle = (socket: Socket, text: string, everyMs: number): (() => void) => {
  let i = 0
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer)
    socket.write(text[i++]!)
  }, everyMs)
  return () => clearInterval(timer)
}

/** One complete request, written at once; the server's answer ends the exchange (`connection: close`). */
export const request = (port: number, head: string, body: string | Uint8Array = "", giveUpMs = 30_000) =>
  exchange(
    port,
    (socket) => {
      socket.write(head.replace(/\r\n$/, "") + "\r\nconnection: close\r\n\r\n")
      if (body.length > 0) socket.write(body)
    },
    giveUpMs
  )
