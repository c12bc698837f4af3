/**
 * `npm run bench:http` — HTTP throughput, in one run, with autocannon (50 connections):
 *
 *   (a) bare node:http answering a small JSON document (bench/bare-hello.ts);
 *   (a2) effect/http with one route and nothing else: the floor of the gateway's HTTP stack
 *       (bench/effect-hello.ts), so the ratio shows what is framework and what is Troupe;
 *   (b) the gateway's liveness route (the full Troupe HTTP stack: router, middleware,
 *       request ids, metrics; no auth);
 *   (c) the gateway's `GET /api/me`: JWT verification, rate limit, and one call to the users
 *       service (its own process, PostgreSQL behind it).
 *
 * Prints req/s and the ratios. Needs PostgreSQL and RabbitMQ (stack mode). BENCH_DURATION
 * (seconds, default 5) per target; BENCH_ROUNDS (default 9) alternates the four. A shared
 * machine's speed drifts from minute to minute, so each ratio is taken within a round (targets
 * measured back to back) and the median over the rounds is reported, beside the median rates.
 */
import { execFileSync, spawn } from "node:child_process"
import { availableParallelism } from "node:os"
import * as Stack from "../src/Stack.ts"
import * as Bench from "./lib.ts"

const duration = Number(process.env.BENCH_DURATION ?? 5)
const rounds = Number(process.env.BENCH_ROUNDS ?? 9)

// With two or more cores, the load generator (a fresh process per measurement, see
// `Bench.http`) runs on core 0 and the servers on core 1 (all their threads): otherwise the
// scheduler now and then puts both on one core or moves them, and a round's rate says more
// about placement than about the server.
const pinning = availableParallelism() >= 2
const pin = (pid: number, cpu: number) => {
  if (pinning) execFileSync("taskset", ["-a", "-cp", String(cpu), String(pid)], { stdio: "ignore" })
}

const main = async () => {
  const port = await Stack.freePort()
  const bareServer = spawn(process.execPath, [new URL("./bare-hello.ts", import.meta.url).pathname], {
    env: { ...process.env, PORT: String(port) }
  })
  const effectPort = await Stack.freePort()
  const effectServer = spawn(process.execPath, [new URL("./effect-hello.ts", import.meta.url).pathname], {
    env: { ...process.env, PORT: String(effectPort) }
  })
  const bench = await Bench.startStack({ runtime: "node", kafka: false })
  try {
    const targets = [
      {
        name: "(a) bare node:http JSON:                   ",
        url: `http://127.0.0.1:${port}/`,
        headers: {},
        server: bareServer.pid
      },
      {
        name: "(a2) effect/http, one route, no middleware:",
        url: `http://127.0.0.1:${effectPort}/`,
        headers: {},
        server: effectServer.pid
      },
      {
        name: "(b) gateway, no auth (/health/live):       ",
        url: `${bench.stack.gatewayUrl}/health/live`,
        headers: {},
        server: bench.stack.of("gateway")[0]!.process.pid
      },
      {
        name: "(c) gateway, JWT + users call (/api/me):   ",
        url: `${bench.stack.gatewayUrl}/api/me`,
        headers: { authorization: `Bearer ${bench.token}` },
        server: undefined
      }
    ]
    const cpu = pinning ? { cpu: 0 } : {}
    for (const t of targets) if (t.server !== undefined) pin(t.server, 1)
    // Long enough for the gateway's code to be optimized before the first round.
    for (const t of targets) await Bench.http("warm-up", t.url, duration, t.headers, cpu)
    console.log(
      `node ${process.versions.node}, 50 connections, ${duration} s per target, ${rounds} rounds` +
        (pinning ? ", load generator on core 0, servers (and the gateway) on core 1" : "")
    )
    const results = targets.map(() => [] as Array<number>)
    const p99 = targets.map(() => [] as Array<number>)
    const cpuPerRequest = targets.map(() => [] as Array<number>)
    for (let round = 1; round <= rounds; round++) {
      for (const [i, t] of targets.entries()) {
        const r = await Bench.http(t.name, t.url, duration, t.headers, {
          ...cpu,
          ...(t.server === undefined ? {} : { server: t.server })
        })
        results[i]!.push(Math.round(r.rps))
        p99[i]!.push(r.p99)
        if (r.cpuMicrosPerRequest !== undefined) cpuPerRequest[i]!.push(r.cpuMicrosPerRequest)
      }
      console.log(`round ${round}: ${results.map((r) => r.at(-1)).join(" / ")} req/s`)
    }
    for (const [i, t] of targets.entries())
      console.log(`${t.name} ${Bench.median(results[i]!)} req/s  p99 ${Bench.median(p99[i]!)} ms`)
    const [a, a2, b, c] = results
    // Within a round, then the median over the rounds.
    const ratio = (x: Array<number>, y: Array<number>) => {
      const perRound = x.map((v, i) => v / y[i]!)
      return `${Bench.median(perRound).toFixed(2)}  (rounds: ${perRound.map((r) => r.toFixed(2)).join(" ")})`
    }
    console.log(`ratio (b)/(a): ${ratio(b!, a!)}  target ≥ 0.7`)
    console.log(`ratio (c)/(a): ${ratio(c!, a!)}`)
    console.log(`ratio (a2)/(a): ${ratio(a2!, a!)}  effect/http alone`)
    console.log(`ratio (b)/(a2): ${ratio(b!, a2!)}  what Troupe's middleware costs on top of effect/http`)
    // The load generator has one core; bare node:http can answer faster than it asks, so (a) is
    // partly the generator's limit. The server's CPU time per request does not depend on that.
    const [ca, ca2, cb] = cpuPerRequest
    if (ca!.length > 0 && cb!.length > 0) {
      const us = (x: Array<number>) => `${Bench.median(x).toFixed(1)} µs`
      console.log(`server CPU per request: (a) ${us(ca!)}, (a2) ${us(ca2!)}, (b) ${us(cb!)}`)
      console.log(`cost ratio (a)/(b): ${ratio(ca!, cb!)}  (what (b)/(a) would be if the servers were the limit)`)
      console.log(`cost ratio (a)/(a2): ${ratio(ca!, ca2!)}`)
    }
  } finally {
    bareServer.kill()
    effectServer.kill()
    await bench.close()
  }
  process.exit(0)
}

void main()
