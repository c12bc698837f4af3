/**
 * `npm run bench:http:instructions` — CPU instructions per HTTP request, counted by valgrind's
 * callgrind, for the servers of `bench:http`: (a) bare node:http, (a2) effect/http with one
 * route, (b) the gateway's `/health/live` (the gateway on its own: no other service is needed
 * for that route).
 *
 * Instruction counts do not depend on what else the machine is doing, so they compare code
 * changes where req/s, on a shared machine, cannot. They are not the whole cost: cache misses
 * and the kernel's share of a request are not counted (see BENCHMARKS.md). Each server runs
 * under callgrind, which counts the main thread and V8's helper threads (compiler, GC) apart:
 * the main thread's count is the steady cost of a request; the helpers' varies with whether V8
 * was still compiling during the count (up to +40k for the gateway). Each server is warmed up
 * with COUNT_WARMUP requests (default 20 000: V8 has optimized the hot code by then; after
 * 2 500 the counts were 1.5-2x higher), then its counters are zeroed, COUNT_REQUESTS requests
 * (default 20 000) are sent over 10 keep-alive connections, and the counters are dumped. Needs
 * valgrind (Debian package `valgrind`). COUNT_RUNS (default 3) fresh processes per server; the
 * median is reported, as counts vary by a few thousand between processes (when V8 compiles and
 * collects). About 15 minutes.
 */
import autocannon from "autocannon"
import { execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Secrets from "../src/Secrets.ts"
import * as Stack from "../src/Stack.ts"
import { median } from "./lib.ts"

const warmup = Number(process.env.COUNT_WARMUP ?? 20_000)
const requests = Number(process.env.COUNT_REQUESTS ?? 20_000)
const runs = Number(process.env.COUNT_RUNS ?? 3)
const root = new URL("../../../", import.meta.url).pathname

const load = (url: string, amount: number) =>
  new Promise<void>((resolve, reject) =>
    autocannon({ url, connections: 10, amount, timeout: 120 }, (error, result) => {
      if (error) return reject(error)
      if (result.non2xx > 0 || result.errors > 0)
        return reject(new Error(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`))
      resolve()
    })
  )

const answers = async (url: string, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false
      )
    )
      return
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s under valgrind`)
}

interface Count {
  /** The main thread's instructions per request: the JavaScript that serves it, the parser, the writes. */
  readonly main: number
  /** Every thread's: also V8's compiler and GC helper threads, when they ran during the count. */
  readonly all: number
}

interface Server {
  readonly id: string
  readonly name: string
  /** The server's entry point. */
  readonly file: string
  /** What is requested. */
  readonly path: string
  readonly env: Record<string, string>
}

/** Instructions per request of `server` under callgrind. */
const count = async ({ id, file, path, env }: Server): Promise<Count> => {
  const dir = mkdtempSync(join(tmpdir(), `troupe-callgrind-${id}-`))
  const port = await Stack.freePort()
  const serverEnv = { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1" }
  // vgdb finds the server by a name that holds $HOST, so callgrind_control needs the server's.
  const control = { stdio: "ignore", env: serverEnv } as const
  const server = spawn(
    "valgrind",
    [
      "--tool=callgrind",
      "--smc-check=all-non-file",
      "--separate-threads=yes",
      `--callgrind-out-file=${dir}/out.%p`,
      process.execPath,
      file
    ],
    { env: serverEnv, stdio: "ignore" }
  )
  try {
    const url = `http://127.0.0.1:${port}${path}`
    await answers(url, 300_000)
    await load(url, warmup)
    execFileSync("callgrind_control", ["-z", String(server.pid)], control)
    await load(url, requests)
    execFileSync("callgrind_control", ["-d", String(server.pid)], control)
    // The dump after zeroing is part 1 of the profile, one file per thread (`out.<pid>.1-<thread>`).
    // callgrind_control returns before the files are complete: wait until they stop changing.
    const read = () => {
      const threads = readdirSync(dir)
        .filter((f) => /\.1-\d+$/.test(f))
        .map((f) => readFileSync(join(dir, f), "utf8"))
        .map((text) => ({
          thread: Number(/^thread: *(\d+)$/m.exec(text)?.[1]),
          instructions: Number(/^summary: *(\d+)$/m.exec(text)?.[1])
        }))
      return threads.some((t) => Number.isNaN(t.instructions)) ? [] : threads
    }
    let threads = read()
    for (let tries = 0; tries < 60; tries++) {
      await new Promise((r) => setTimeout(r, 500))
      const again = read()
      if (again.length > 0 && again.length === threads.length) break
      threads = again
    }
    const main = threads.find((t) => t.thread === 1)
    if (main === undefined) throw new Error(`${id}: callgrind wrote no dump after zeroing its counters`)
    return { main: main.instructions / requests, all: threads.reduce((n, t) => n + t.instructions, 0) / requests }
  } finally {
    server.kill("SIGKILL")
    rmSync(dir, { recursive: true, force: true })
  }
}

const main = async () => {
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" })
  } catch {
    console.error("valgrind is not installed (Debian: apt-get install valgrind)")
    process.exit(1)
  }
  const here = (file: string) => new URL(file, import.meta.url).pathname
  const gatewayEnv = Secrets.env({
    adminPassword: randomBytes(12).toString("base64url"),
    jwtKid: "bench",
    jwtKey: randomBytes(32).toString("base64url")
  })
  console.log(
    `node ${process.versions.node}, ${warmup} requests of warm-up, ${requests} counted, ${runs} runs (a fresh process each)`
  )
  const servers: ReadonlyArray<Server> = [
    { id: "bare", name: "(a) bare node:http:         ", file: here("./bare-hello.ts"), path: "/", env: {} },
    { id: "effect", name: "(a2) effect/http, one route:", file: here("./effect-hello.ts"), path: "/", env: {} },
    {
      id: "gateway",
      name: "(b) gateway /health/live:   ",
      file: `${root}packages/gateway/src/main.ts`,
      path: "/health/live",
      env: gatewayEnv
    }
  ]
  const counts: Array<Array<Count>> = servers.map(() => [])
  const k = (n: number) => `${(n / 1000).toFixed(1)}k`
  for (let run = 1; run <= runs; run++) {
    for (const [i, server] of servers.entries()) counts[i]!.push(await count(server))
    console.log(
      `run ${run}, main thread (all threads): ${counts.map((c) => `${k(c.at(-1)!.main)} (${k(c.at(-1)!.all)})`).join(" / ")}`
    )
  }
  const medians = counts.map((c) => ({ main: median(c.map((x) => x.main)), all: median(c.map((x) => x.all)) }))
  for (const [i, server] of servers.entries())
    console.log(
      `${server.name} ${k(medians[i]!.main)} instructions per request on the main thread, ` +
        `${k(medians[i]!.all)} on all threads (medians)`
    )
  const [a, a2, b] = medians.map((m) => m.main)
  console.log(
    `main thread: (a)/(b) ${(a! / b!).toFixed(2)}   (a)/(a2) ${(a! / a2!).toFixed(2)}   (a2)/(b) ${(a2! / b!).toFixed(2)}`
  )
  process.exit(0)
}

void main()
