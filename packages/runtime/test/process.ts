// Helpers to run a service as a real child process.
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })

export interface Running {
  readonly url: string
  readonly port: number
  readonly proc: ChildProcess
  readonly output: () => string
  readonly exited: Promise<number | null>
  readonly stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

/** Spawns `command args` with `env`; resolves once `GET /health/ready` answers 200 (or rejects with its output). */
export const start = async (
  command: string,
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  options: { readonly waitReady?: boolean; readonly timeoutMs?: number; readonly port?: number } = {}
): Promise<Running> => {
  const port = options.port ?? (await freePort())
  let output = ""
  const proc = spawn(command, [...args], {
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  proc.stdout!.on("data", (d) => (output += d.toString()))
  proc.stderr!.on("data", (d) => (output += d.toString()))
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)))
  const url = `http://127.0.0.1:${port}`
  const running: Running = {
    url,
    port,
    proc,
    output: () => output,
    exited,
    stop: async (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      return exited
    }
  }
  if (options.waitReady === false) return running
  const deadline = Date.now() + (options.timeoutMs ?? 30_000)
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`service exited with ${proc.exitCode} before it was ready:\n${output}`)
    const ok = await fetch(`${url}/health/ready`).then(
      (r) => r.status === 200,
      () => false
    )
    if (ok) return running
    await new Promise((r) => setTimeout(r, 100))
  }
  proc.kill("SIGKILL")
  throw new Error(`service was not ready within ${options.timeoutMs ?? 30_000} ms:\n${output}`)
}

/** Parses Prometheus text exposition format strictly; throws on a malformed line. */
export const parsePrometheus = (text: string) => {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = []
  const types = new Map<string, string>()
  for (const line of text.split("\n")) {
    if (line === "") continue
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
    if (meta) {
      if (meta[1] === "TYPE") {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(meta[3]!))
          throw new Error(`bad TYPE: ${line}`)
        types.set(meta[2]!, meta[3]!)
      }
      continue
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)( [0-9]+)?$/.exec(line)
    if (!sample) throw new Error(`malformed metrics line: ${line}`)
    const labels: Record<string, string> = {}
    if (sample[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/g
      let consumed = 0
      for (let m = re.exec(sample[3]); m; m = re.exec(sample[3])) {
        labels[m[1]!] = m[2]!
        consumed += m[0].length
      }
      if (consumed !== sample[3].length) throw new Error(`malformed labels: ${line}`)
    }
    samples.push({ name: sample[1]!, labels, value: Number(sample[4]) })
  }
  return { samples, types }
}
