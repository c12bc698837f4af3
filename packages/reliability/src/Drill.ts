/**
 * The DR failover drill (seed 001), locally: a PostgreSQL primary and a streaming-replication
 * standby (two private clusters, `pg_basebackup -R`), Microbank in stack mode on the primary,
 * traffic running — then the primary is killed (SIGKILL), the standby promoted
 * (`SELECT pg_promote()`), and the services repointed by configuration (DATABASE_URL) and
 * restarted, as docs/runbooks/dr-failover.md says. Afterwards the same checks as the chaos
 * rounds run against the promoted standby: acknowledged writes must all be there.
 *
 * `sync` makes the primary wait for the standby before a commit returns
 * (`synchronous_standby_names`, `synchronous_commit = on`): acknowledged = replicated, RPO 0.
 * `async` is PostgreSQL's default: the drill measures what it would risk (lag, lost writes).
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as KafkaMock from "../../microbank/src/KafkaMock.ts"
import * as Secrets from "../../microbank/src/Secrets.ts"
import * as Stack from "../../microbank/src/Stack.ts"
import * as Postgres from "./Postgres.ts"
import { onInterrupt, run, sleep, within } from "./Processes.ts"
import * as RabbitMq from "./RabbitMq.ts"
import * as Verify from "./Verify.ts"
import * as Workload from "./Workload.ts"

export type Mode = "sync" | "async"

export interface DrillOptions {
  readonly mode: Mode
  /** Seconds of traffic on the primary before it is killed. Default 6. */
  readonly beforeSeconds?: number
  /** Seconds of traffic on the promoted standby after the first successful write. Default 4. */
  readonly afterSeconds?: number
  /**
   * Seconds the standby's WAL receiver is frozen (SIGSTOP) just before the primary dies: the
   * standby is behind at the worst moment, as a distant or busy replica is. Default 2; 0 for none.
   */
  readonly stallSeconds?: number
  readonly keep?: boolean
  readonly log?: (line: string) => void
  /** Extra environment for every service. */
  readonly env?: Record<string, string>
}

export interface Lag {
  /** WAL written on the primary but not yet flushed on the standby, bytes. */
  readonly flushBytes: number
  /** ... not yet replayed on the standby, bytes. */
  readonly replayBytes: number
  /** `pg_stat_replication.replay_lag`, seconds. */
  readonly replaySeconds: number
}

export interface DrillResult {
  readonly mode: Mode
  readonly operations: number
  /** Acknowledged writes missing on the promoted standby (RPO in writes). */
  readonly lost: number
  readonly duplicated: number
  readonly balancesReconciled: boolean
  /** Replication lag in the last sample before the kill, and the worst seen while traffic ran. */
  readonly lagAtKill: Lag
  readonly maxLag: Lag
  /** WAL the dead primary had written beyond what the standby received: bytes and commits. */
  readonly unreplicated: { readonly bytes: number; readonly commits: number } | undefined
  /** Kill → first acknowledged write on the promoted standby (RTO), seconds. */
  readonly rtoSeconds: number
  /** When each step finished, seconds after the kill. */
  readonly steps: {
    readonly detected: number
    readonly promoted: number
    readonly repointed: number
    readonly firstWrite: number
  }
  readonly retries: number
  readonly appliedWithoutAnswer: number
  readonly unexpected: ReadonlyArray<string>
  readonly problems: ReadonlyArray<string>
}

const standbyName = "drstandby"

/** `0/3000148` → a number of bytes. */
const lsn = (text: string): number => {
  const [hi, lo] = text.split("/")
  return parseInt(hi!, 16) * 2 ** 32 + parseInt(lo!, 16)
}

/**
 * What the dead primary wrote after `from`: `pg_waldump` over its WAL from the standby's last
 * received position, up to the last valid record (a killed server's WAL simply ends there).
 */
const unreplicatedWal = async (primary: Postgres.Cluster, from: string) => {
  const bin = Postgres.binDir()!
  const output = await run(join(bin, "pg_waldump"), ["-p", join(primary.dir, "data", "pg_wal"), "-s", from]).catch(
    (error: Error) => error.message // pg_waldump exits non-zero at the end of the WAL; its output is still there
  )
  const records = output.split("\n").filter((l) => /^rmgr:/.test(l))
  const last = records.at(-1)
  if (!last) return { bytes: 0, commits: 0 }
  const lastLsn = /lsn: ([0-9A-F]+\/[0-9A-F]+)/.exec(last)?.[1]
  const length = Number(/len \(rec\/tot\):\s*\d+\/\s*(\d+)/.exec(last)?.[1] ?? 0)
  return {
    bytes: lastLsn ? Math.max(0, lsn(lastLsn) + length - lsn(from)) : 0,
    commits: records.filter((l) => /desc: COMMIT/.test(l)).length
  }
}

export const drill = async (options: DrillOptions): Promise<DrillResult> => {
  const log = options.log ?? (() => undefined)
  const dir = mkdtempSync(join(tmpdir(), "troupe-dr-"))
  const cleanups: Array<() => Promise<unknown>> = []
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error(`cleanup: ${e}`))
    cleanups.length = 0
    if (options.keep) console.log(`dr drill logs kept in ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  }
  const unregister = onInterrupt(cleanUp)
  try {
    const primary = await Postgres.create({ name: "dr-primary", port: await Stack.freePort() })
    cleanups.push(() => primary.destroy())
    const standby = await Postgres.standbyOf(primary, {
      name: "dr-standby",
      port: await Stack.freePort(),
      applicationName: standbyName
    })
    cleanups.push(() => standby.destroy())
    await Postgres.waitStreaming(primary, standbyName)
    if (options.mode === "sync") {
      // in postgresql.auto.conf: copied to standbys by pg_basebackup, which is why promotion resets it
      await primary.query(`alter system set synchronous_standby_names = '${standbyName}'`)
      await primary.query("alter system set synchronous_commit = on")
      await primary.query("select pg_reload_conf()")
    }
    const [[syncState]] = await primary.query(
      `select sync_state from pg_stat_replication where application_name = '${standbyName}'`
    )
    log(`dr ${options.mode}: standby streaming (${syncState})`)

    const rabbit = await RabbitMq.create({ port: await Stack.freePort(), distPort: await Stack.freePort() })
    cleanups.push(() => rabbit.destroy())
    await rabbit.start()
    const kafka = await KafkaMock.start()
    cleanups.push(() => kafka.stop())
    const stack = await Stack.start({
      databaseUrl: primary.url(),
      amqpUrl: rabbit.url,
      kafkaBrokers: kafka.bootstrap,
      secrets: Secrets.load(dir).secrets,
      logDir: join(dir, "logs"),
      env: {
        PASSWORD_SCRYPT_LOG_N: "14",
        AUTH_RATE_LIMIT_PER_MINUTE: "1000000",
        RATE_LIMIT_PER_MINUTE: "1000000",
        LOG_LEVEL: "warn",
        ...options.env
      }
    })
    cleanups.push(async () => {
      await within(stack.stop(), 15_000)
      await Promise.all(stack.instances.map((i) => i.kill("SIGKILL")))
    })

    const tag = `dr${Date.now().toString(36)}`
    const workload = await Workload.start({
      gateway: stack.gatewayUrl,
      tag,
      customers: 4
    })
    // replication lag, sampled on the primary while it lives
    const lags: Array<Lag> = []
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const row = await primary
          .query(
            `select pg_wal_lsn_diff(pg_current_wal_lsn(), flush_lsn), pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn),
                    coalesce(extract(epoch from replay_lag), 0)
             from pg_stat_replication where application_name = '${standbyName}'`,
            "postgres",
            2_000
          )
          .catch(() => undefined)
        if (row?.[0])
          lags.push({ flushBytes: Number(row[0][0]), replayBytes: Number(row[0][1]), replaySeconds: Number(row[0][2]) })
        await sleep(100)
      }
    })()
    await sleep((options.beforeSeconds ?? 6) * 1000)
    const stall = options.stallSeconds ?? 2
    const [[receiver]] = await standby.query("select pid from pg_stat_wal_receiver")
    if (stall > 0) {
      process.kill(Number(receiver), "SIGSTOP")
      await sleep(stall * 1000)
    }

    // --- the primary dies ---------------------------------------------------------------------
    sampling = false
    await sampler
    const lagAtKill = lags.at(-1) ?? { flushBytes: 0, replayBytes: 0, replaySeconds: 0 }
    const killedAt = Date.now()
    await primary.kill()
    // the receiver wakes up to a dead primary: it keeps only what had reached it
    if (stall > 0) process.kill(Number(receiver), "SIGCONT")
    log(`dr ${options.mode}: primary killed`)
    // detection: the operator (or the cluster's failover logic) sees the primary refuse connections twice
    let failures = 0
    while (failures < 2) {
      failures = (await primary.query("select 1", "postgres", 1_000).then(
        () => false,
        () => true
      ))
        ? failures + 1
        : 0
      await sleep(200)
    }
    const detectedAt = Date.now()
    // promotion: the last WAL the standby received, then pg_promote()
    const [[received]] = await standby.query("select pg_last_wal_receive_lsn()")
    await standby.query("select pg_promote(true, 60)")
    // the promoted server has no standby of its own yet: writes would wait for one forever
    await standby.query("alter system reset synchronous_standby_names")
    await standby.query("select pg_reload_conf()")
    const promotedAt = Date.now()
    log(`dr ${options.mode}: standby promoted at ${received}`)
    // repoint: every service with a database restarts with DATABASE_URL on the promoted server
    stack.repoint(standby.url())
    await Promise.all(
      stack.instances
        .filter((i) => i.service !== "gateway")
        .map(async (i) => {
          const t = Date.now()
          // drain if it can, else it is killed: its database is gone
          const drained = await within(i.kill("SIGTERM"), 5_000)
          const stopped = Date.now()
          await i.restart("SIGKILL")
          log(
            `dr ${options.mode}: ${i.service} ${drained ? "stopped" : "killed"} after ${(stopped - t) / 1000} s, ready ${(Date.now() - stopped) / 1000} s later`
          )
        })
    )
    const repointedAt = Date.now()
    log(`dr ${options.mode}: services repointed`)
    const writes = () =>
      workload.acks.filter((a) => (a.kind === "deposit" || a.kind === "transfer") && a.at > promotedAt)
    while (writes().length === 0 && Date.now() < repointedAt + 60_000) await sleep(100)
    const firstWrite = writes().sort((a, b) => a.at - b.at)[0]?.at ?? Number.POSITIVE_INFINITY
    await sleep((options.afterSeconds ?? 4) * 1000)
    const stats = await workload.stop(60_000)

    const query: Verify.Query = (service, sql) =>
      standby.query(sql, new URL(stack.databaseUrl(service as Stack.Service)).pathname.slice(1), 30_000)
    const input = () => ({
      customers: workload.customers,
      acks: workload.acks,
      notAcknowledged: workload.stats().notAcknowledged,
      tag,
      query
    })
    const deadline = Date.now() + 90_000
    let verdict = await Verify.verify(input())
    while (verdict.lost > 0 && Date.now() < deadline) {
      await sleep(1_000)
      verdict = await Verify.verify(input())
    }
    await sleep(2_000)
    verdict = await Verify.verify(input())
    const unreplicated = await unreplicatedWal(primary, received!).catch(() => undefined)
    const max = (f: (l: Lag) => number) => Math.max(0, ...lags.map(f))
    const seconds = (t: number) => Math.round((t - killedAt) / 100) / 10
    return {
      mode: options.mode,
      operations: verdict.operations,
      lost: verdict.lost,
      duplicated: verdict.duplicated,
      balancesReconciled: verdict.balancesReconciled,
      lagAtKill,
      maxLag: {
        flushBytes: max((l) => l.flushBytes),
        replayBytes: max((l) => l.replayBytes),
        replaySeconds: max((l) => l.replaySeconds)
      },
      unreplicated,
      rtoSeconds: seconds(firstWrite),
      steps: {
        detected: seconds(detectedAt),
        promoted: seconds(promotedAt),
        repointed: seconds(repointedAt),
        firstWrite: seconds(firstWrite)
      },
      retries: stats.retries,
      appliedWithoutAnswer: verdict.appliedWithoutAnswer,
      unexpected: stats.unexpected,
      problems: verdict.problems
    }
  } finally {
    unregister()
    await cleanUp()
  }
}
