/**
 * `npm run chaos`: the full fault-injection campaign — every fault kind `--runs` times (rounds
 * interleaved, so a slow spell of the machine spreads over all kinds) on one environment, then
 * `--drills` DR failover drills per replication mode — and the results into docs/RELIABILITY.md
 * (the generated section) and packages/reliability/results/campaign.json.
 *
 *   npm run chaos -- [--runs 10] [--faults kill-accounts,postgres-pause] [--drills 3]
 *                    [--pause-seconds 30] [--no-write]
 *
 * Exits 1 when a round lost or duplicated anything, did not reconcile or did not recover, or a
 * synchronous drill lost an acknowledged write.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { cpus, loadavg, totalmem } from "node:os"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import * as Chaos from "./Chaos.ts"
import * as Drill from "./Drill.ts"
import { cleanUpOnSignals } from "./Processes.ts"
import * as Report from "./Report.ts"
import * as Requirements from "./Requirements.ts"

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "10" },
    faults: { type: "string", default: Chaos.faultNames.join(",") },
    drills: { type: "string", default: "3" },
    "pause-seconds": { type: "string", default: "30" },
    "no-write": { type: "boolean", default: false },
    keep: { type: "boolean", default: false }
  }
})
const runs = Number(values.runs)
const faults = values.faults.split(",").filter((f) => f !== "") as Array<Chaos.FaultName>
for (const f of faults)
  if (!Chaos.faultNames.includes(f)) throw new Error(`unknown fault ${f}: ${Chaos.faultNames.join(", ")}`)
const drills = Number(values.drills)
const pauseSeconds = Number(values["pause-seconds"])
const root = fileURLToPath(new URL("../../../", import.meta.url))

cleanUpOnSignals()
const gaps = Requirements.missing()
if (gaps.length > 0) {
  console.error(`cannot run the campaign; missing: ${gaps.join(", ")}`)
  process.exit(1)
}

const version = (command: string, args: Array<string>) => {
  try {
    return execFileSync(command, args, { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim()
      .split("\n")[0]!
  } catch {
    return "?"
  }
}
const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`)
const started = new Date()
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")
const machine = `${cpus().length} CPUs (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, load average ${load()} at the start`

const rounds: Array<Chaos.RoundResult> = []
const failed: Array<Report.Failed> = []
let env: Chaos.Environment | undefined
const environment = async () => (env ??= await Chaos.startEnvironment({ keep: values.keep }))
try {
  for (let run = 0; run < runs; run++) {
    // rotate the order: every fault kind runs early and late in the campaign
    const order = faults.map((_, i) => faults[(i + run) % faults.length]!)
    for (const fault of order) {
      try {
        const result = await Chaos.round(await environment(), { fault, pauseSeconds, quietSeconds: 40, log })
        rounds.push(result)
        log(
          `${fault} run ${run + 1}/${runs}: ${result.operations} ops, lost ${result.lost}, duplicated ${result.duplicated}, ` +
            `recovery ${result.recoverySeconds} s, drain ${result.drainSeconds.toFixed(1)} s${Report.passed(result) ? "" : "  FAILED"}`
        )
        if (result.problems.length > 0) log(`  ${result.problems.slice(0, 5).join("\n  ")}`)
      } catch (error) {
        // the round broke off: note it, start a fresh environment for the rest
        failed.push({ fault, error: String(error) })
        log(`${fault} run ${run + 1}/${runs}: broke off: ${error}`)
        await env?.close()
        env = undefined
      }
    }
  }
} finally {
  await env?.close()
}

const drillResults: Array<Drill.DrillResult> = []
for (let i = 0; i < drills; i++) {
  for (const mode of ["sync", "async"] as const) {
    const result = await Drill.drill({ mode, log, keep: values.keep })
    drillResults.push(result)
    log(
      `dr ${mode} ${i + 1}/${drills}: ${result.operations} ops, lost ${result.lost}, RTO ${result.rtoSeconds} s, ` +
        `lag at kill ${result.lagAtKill.flushBytes} B, unreplicated ${result.unreplicated?.bytes ?? "?"} B / ${result.unreplicated?.commits ?? "?"} commits`
    )
  }
}

const campaign: Report.Campaign = {
  command: `npm run chaos -- --runs ${runs} --drills ${drills} --pause-seconds ${pauseSeconds}${
    values.faults === Chaos.faultNames.join(",") ? "" : ` --faults ${values.faults}`
  }`,
  startedAt: started.toISOString().slice(0, 16).replace("T", " ") + " UTC",
  finishedAt: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
  machine: `${machine}, ${load()} at the end (shared with other work)`,
  versions: [
    version("node", ["--version"]).replace(/^v/, "Node "),
    version(`${root}node_modules/.bin/node`, ["--version"]).replace(/^v/, "services on Node "),
    version("psql", ["--version"]),
    `RabbitMQ ${version("dpkg-query", ["-W", "-f=${Version}", "rabbitmq-server"])}`,
    version("kcat", ["-V"])
  ].join(", "),
  settings:
    `Per round: 4 customers, 5 clients (deposits 1, transfers 2, purchases 1, ingest 1; 100 ms between operations), ` +
    `4 s of baseline traffic, then the fault (at least 40 s after the previous round's, so rounds do not inherit each other's restart backoff); RabbitMQ down 5 s, Kafka frozen 10 s, PostgreSQL frozen ${pauseSeconds} s; ` +
    "recovery = for each kind of operation, the first one acknowledged after the fault from which every instance is ready and the kind's rate over the next 2 s is at least 80% of its baseline; the slowest kind counts.",
  rounds,
  failed,
  drills: drillResults
}
if (!values["no-write"]) {
  mkdirSync(`${root}packages/reliability/results`, { recursive: true })
  writeFileSync(`${root}packages/reliability/results/campaign.json`, JSON.stringify(campaign, null, 1) + "\n")
  await Report.write(`${root}docs/RELIABILITY.md`, campaign)
  log("wrote docs/RELIABILITY.md and packages/reliability/results/campaign.json")
}
console.log(`\n${Report.chaosTable(rounds, failed)}\n\n${Report.drillTable(drillResults)}`)
const bad =
  failed.length > 0 ||
  rounds.some((r) => !Report.passed(r)) ||
  drillResults.some((d) => d.mode === "sync" && d.lost > 0)
process.exit(bad ? 1 : 0)
