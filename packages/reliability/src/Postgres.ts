/**
 * A private PostgreSQL cluster (Debian's PostgreSQL binaries, `initdb` into a temporary
 * directory, its own port, trust auth on 127.0.0.1 and a unix socket in the directory), so a
 * fault-injection run can kill, restart and freeze it without touching the shared server.
 * Run as root, the server runs as the `postgres` OS user (PostgreSQL refuses to run as root).
 * A streaming-replication standby is a second cluster made with `pg_basebackup -R`.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { alive, portOpen, rss, run, signalTree, tree, waitFor, waitGone, within } from "./Processes.ts"

/** Where Debian keeps the server binaries (`PG_BIN` overrides). */
export const binDir = (): string | undefined => {
  if (process.env.PG_BIN) return process.env.PG_BIN
  const base = "/usr/lib/postgresql"
  if (!existsSync(base)) return undefined
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, "bin", "postgres")))
    .sort((a, b) => Number(b) - Number(a))
  return versions.length > 0 ? join(base, versions[0]!, "bin") : undefined
}

interface Owner {
  readonly uid: number
  readonly gid: number
}

/** The OS user the server runs as: `postgres` when we are root, else ourselves. */
const owner = (): Owner | undefined => {
  if (process.getuid?.() !== 0) return undefined
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"]).toString().trim())
  return { uid: id("-u"), gid: id("-g") }
}

export interface Options {
  /** A label for directories and logs. */
  readonly name: string
  readonly port: number
  /** Extra `postgresql.conf` settings, passed on the command line. */
  readonly settings?: Record<string, string | number>
}

export interface Cluster {
  readonly name: string
  readonly port: number
  readonly dir: string
  /** A URL of database `db` on this cluster as the superuser. */
  readonly url: (db?: string) => string
  /** The postmaster's pid while it runs. */
  readonly pid: () => number | undefined
  /** Postmaster and backends. */
  readonly pids: () => Array<number>
  readonly rss: () => number
  readonly start: () => Promise<void>
  /** A clean shutdown (`fast`: disconnect clients, checkpoint) or `immediate` (no checkpoint, crash recovery at start). */
  readonly stop: (mode?: "fast" | "immediate") => Promise<void>
  /** SIGKILL of the postmaster; waits until every backend has gone. */
  readonly kill: () => Promise<void>
  /** SIGSTOP / SIGCONT of the postmaster and every backend: the server freezes, sockets stay open. */
  readonly pause: () => void
  readonly resume: () => void
  /** Runs SQL with psql; rows as arrays of strings. */
  readonly query: (sql: string, db?: string, timeoutMs?: number) => Promise<Array<Array<string>>>
  /** Stops the server (if running) and removes its directory. */
  readonly destroy: () => Promise<void>
}

const makeDir = (name: string, who: Owner | undefined) => {
  const dir = mkdtempSync(join(tmpdir(), `troupe-${name}-`))
  if (who) chownSync(dir, who.uid, who.gid)
  return dir
}

const make = (options: Options, dir: string, who: Owner | undefined, bin: string): Cluster => {
  const data = join(dir, "data")
  const logFile = join(dir, "postgres.log")
  let child: ChildProcess | undefined
  // resolves when Node has reaped the postmaster: only then may it start again
  let exited: Promise<unknown> = Promise.resolve()
  let paused: Array<number> = []
  const settings: Record<string, string | number> = {
    listen_addresses: "127.0.0.1",
    port: options.port,
    unix_socket_directories: dir,
    max_connections: 300,
    shared_buffers: "64MB",
    // fail fast instead of waiting forever for a lock held by a frozen session
    lock_timeout: "30s",
    ...options.settings
  }
  const pid = () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined)
  const query = async (sql: string, db = "postgres", timeoutMs = 15_000) => {
    const out = await run(
      "psql",
      ["-h", "127.0.0.1", "-p", String(options.port), "-U", "postgres", "-d", db, "-qAtX", "-F", "\t"].concat([
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        sql
      ]),
      { env: { ...process.env, PGCONNECT_TIMEOUT: "5" }, timeoutMs }
    )
    return out
      .split("\n")
      .filter((l) => l.length > 0)
      .map((l) => l.split("\t"))
  }
  const ready = async () => {
    if (!(await portOpen(options.port))) return false
    return query("select 1", "postgres", 5_000).then(
      () => true,
      () => false
    )
  }
  const start = async () => {
    if (pid() !== undefined) return
    const log = openSync(logFile, "a")
    if (who) chownSync(logFile, who.uid, who.gid)
    const args = ["-D", data, ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])]
    child = spawn(join(bin, "postgres"), args, {
      stdio: ["ignore", log, log],
      ...(who ? { uid: who.uid, gid: who.gid } : {})
    })
    const current = child
    exited = new Promise((resolve) => current.once("exit", resolve))
    await waitFor(
      `PostgreSQL ${options.name} on port ${options.port} (log: ${logFile})`,
      async () => {
        if (current.exitCode !== null || current.signalCode !== null)
          throw new Error(`PostgreSQL ${options.name} exited while starting (log: ${logFile})`)
        return ready()
      },
      120_000
    )
  }
  const waitStopped = async (pids: Array<number>) => {
    const reaped = await within(exited, 60_000)
    if (!reaped || !(await waitGone(pids, 60_000))) throw new Error(`PostgreSQL ${options.name} did not stop`)
  }
  const stop = async (mode: "fast" | "immediate" = "fast") => {
    const p = pid()
    if (p === undefined) return
    if (paused.length > 0) resume()
    const pids = tree(p)
    process.kill(p, mode === "fast" ? "SIGINT" : "SIGQUIT")
    await waitStopped(pids)
  }
  const kill = async () => {
    const p = pid()
    if (p === undefined) return
    const pids = tree(p)
    process.kill(p, "SIGKILL")
    // backends notice the postmaster's death and exit; any left over are killed too
    if (!(await waitGone(pids, 5_000))) signalTree(p, "SIGKILL")
    for (const q of pids) if (alive(q)) process.kill(q, "SIGKILL")
    await waitStopped(pids)
  }
  const pause = () => {
    const p = pid()
    if (p === undefined) throw new Error(`PostgreSQL ${options.name} is not running`)
    paused = signalTree(p, "SIGSTOP")
  }
  const resume = () => {
    for (const q of paused) {
      try {
        process.kill(q, "SIGCONT")
      } catch {
        // gone
      }
    }
    paused = []
  }
  return {
    name: options.name,
    port: options.port,
    dir,
    url: (db = "postgres") => `postgres://postgres@127.0.0.1:${options.port}/${db}`,
    pid,
    pids: () => {
      const p = pid()
      return p === undefined ? [] : tree(p)
    },
    rss: () => {
      const p = pid()
      return p === undefined ? 0 : rss(tree(p))
    },
    start,
    stop,
    kill,
    pause,
    resume,
    query,
    destroy: async () => {
      await stop("immediate").catch(() => kill())
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

const requireBin = () => {
  const bin = binDir()
  if (!bin) throw new Error("PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BIN)")
  return bin
}

/** `initdb` a new cluster and start it. */
export const create = async (options: Options): Promise<Cluster> => {
  const bin = requireBin()
  const who = owner()
  const dir = makeDir(options.name, who)
  await run(
    join(bin, "initdb"),
    ["-D", join(dir, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
    who ?? {}
  )
  const cluster = make(options, dir, who, bin)
  await cluster.start()
  return cluster
}

/**
 * A streaming-replication standby of `primary`: `pg_basebackup -R` (which writes
 * `primary_conninfo` and `standby.signal`), started as a hot standby.
 */
export const standbyOf = async (
  primary: Cluster,
  options: Options & { readonly applicationName: string }
): Promise<Cluster> => {
  const bin = requireBin()
  const who = owner()
  const dir = makeDir(options.name, who)
  const data = join(dir, "data")
  await run(
    join(bin, "pg_basebackup"),
    ["-h", "127.0.0.1", "-p", String(primary.port), "-U", "postgres", "-D", data, "-R", "-X", "stream"].concat([
      "--no-sync",
      "-d",
      `host=127.0.0.1 port=${primary.port} user=postgres application_name=${options.applicationName}`
    ]),
    who ?? {}
  )
  const cluster = make(options, dir, who, bin)
  await cluster.start()
  return cluster
}

/** Waits until a standby's WAL receiver streams from its primary. */
export const waitStreaming = (primary: Cluster, applicationName: string) =>
  waitFor(
    `standby ${applicationName} streaming`,
    async () =>
      (
        await primary.query(`select state from pg_stat_replication where application_name = '${applicationName}'`)
      )[0]?.[0] === "streaming",
    60_000
  )
