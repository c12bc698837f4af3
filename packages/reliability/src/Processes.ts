/**
 * OS process helpers for fault injection: the process tree of a server (from `/proc`), its
 * resident memory, signals to the whole tree, and waiting for processes to disappear.
 */
import { execFile } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { createConnection } from "node:net"

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

const cleanups = new Set<() => Promise<unknown>>()

/**
 * Registers a cleanup to run if the process is interrupted (SIGINT/SIGTERM, see
 * `cleanUpOnSignals`); returns a function that unregisters it.
 */
export const onInterrupt = (cleanup: () => Promise<unknown>): (() => void) => {
  cleanups.add(cleanup)
  return () => void cleanups.delete(cleanup)
}

/** On SIGINT/SIGTERM: run the registered cleanups (servers stopped, directories removed), then exit. */
export const cleanUpOnSignals = () => {
  const handler = async (signal: NodeJS.Signals) => {
    console.error(`${signal}: cleaning up`)
    for (const cleanup of [...cleanups].reverse()) await cleanup().catch(() => undefined)
    process.exit(130)
  }
  process.once("SIGINT", handler)
  process.once("SIGTERM", handler)
}

/** True if `promise` settles within `ms` (its timer does not outlive it). */
export const within = (promise: Promise<unknown>, ms: number): Promise<boolean> =>
  new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    promise.then(
      () => (clearTimeout(timer), resolve(true)),
      () => (clearTimeout(timer), resolve(true))
    )
  })

const parentOf = (pid: number): number | undefined => {
  try {
    // "pid (comm) state ppid ..."; comm may contain spaces and parentheses: split after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
  } catch {
    return undefined
  }
}

/** `pid` and every process below it. */
export const tree = (pid: number): Array<number> => {
  const children = new Map<number, Array<number>>()
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    const child = Number(entry)
    const parent = parentOf(child)
    if (parent === undefined) continue
    children.set(parent, [...(children.get(parent) ?? []), child])
  }
  const out: Array<number> = []
  const visit = (p: number) => {
    out.push(p)
    for (const c of children.get(p) ?? []) visit(c)
  }
  if (alive(pid)) visit(pid)
  return out
}

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    // a zombie has exited already
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

/** Resident memory of the processes, in bytes (0 for those gone). */
export const rss = (pids: ReadonlyArray<number>): number =>
  pids.reduce((sum, pid) => {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
      return sum + (match ? Number(match[1]) * 1024 : 0)
    } catch {
      return sum
    }
  }, 0)

/** Sends `signal` to every process of the tree (the root first for SIGKILL/SIGSTOP, so it cannot react). */
export const signalTree = (pid: number, signal: NodeJS.Signals): Array<number> => {
  const pids = tree(pid)
  for (const p of pids) {
    try {
      process.kill(p, signal)
    } catch {
      // already gone
    }
  }
  return pids
}

export const waitGone = async (pids: ReadonlyArray<number>, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (pids.every((p) => !alive(p))) return true
    await sleep(50)
  }
  return false
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export const portOpen = (port: number, timeoutMs = 1000): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port })
    socket.setTimeout(timeoutMs)
    socket.once("connect", () => (socket.destroy(), resolve(true)))
    socket.once("error", () => resolve(false))
    socket.once("timeout", () => (socket.destroy(), resolve(false)))
  })

export const waitFor = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(100)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** Runs a command; resolves with stdout, rejects with stderr in the message. */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: {
    readonly env?: NodeJS.ProcessEnv
    readonly timeoutMs?: number
    readonly uid?: number
    readonly gid?: number
  } = {}
): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(
      command,
      args as Array<string>,
      {
        env: options.env ?? process.env,
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        ...(options.uid === undefined ? {} : { uid: options.uid }),
        ...(options.gid === undefined ? {} : { gid: options.gid })
      },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${command} ${args.join(" ")}: ${error.message}\n${stderr}`.trim())) : resolve(stdout)
    )
  })
