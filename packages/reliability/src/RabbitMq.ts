/**
 * A private RabbitMQ node (Debian's rabbitmq-server) with its own node name, ports, data and
 * log directories, Erlang cookie (HOME) and no plugins, so a fault-injection run can stop,
 * start and disconnect it without touching the shared broker on 5672. Its durable (quorum)
 * queues live in its own Mnesia directory and survive a restart.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { portOpen, rss, run, signalTree, tree, waitFor, waitGone, within } from "./Processes.ts"

/** Debian installs the real scripts here; `/usr/sbin/rabbitmq-server` re-runs them as user rabbitmq. */
const scripts = process.env.RABBITMQ_SCRIPTS ?? "/usr/lib/rabbitmq/bin"

export const available = (): boolean => existsSync(join(scripts, "rabbitmq-server"))

export interface Node {
  readonly name: string
  readonly port: number
  readonly url: string
  readonly dir: string
  readonly pid: () => number | undefined
  readonly rss: () => number
  readonly start: () => Promise<void>
  /** `rabbitmqctl stop`: a clean shutdown of the node. */
  readonly stop: () => Promise<void>
  /** `rabbitmqctl close_all_connections`: every client connection dropped at once. */
  readonly closeConnections: () => Promise<void>
  /** Messages ready + unacknowledged per queue. */
  readonly queues: () => Promise<Array<{ readonly name: string; readonly messages: number }>>
  readonly ctl: (...args: ReadonlyArray<string>) => Promise<string>
  readonly destroy: () => Promise<void>
}

export const create = async (options: { readonly port: number; readonly distPort: number }): Promise<Node> => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-rabbitmq-"))
  const name = `troupe-chaos-${options.port}@localhost`
  writeFileSync(join(dir, "rabbitmq.conf"), "loopback_users = none\n")
  writeFileSync(join(dir, "rabbitmq-env.conf"), "")
  writeFileSync(join(dir, "enabled_plugins"), "[].\n")
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // the Erlang cookie is created in, and read from, $HOME
    HOME: dir,
    RABBITMQ_NODENAME: name,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(options.port),
    RABBITMQ_DIST_PORT: String(options.distPort),
    // our own files instead of /etc/rabbitmq's (which listen on 5672)
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq"),
    RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, "plugins"),
    RABBITMQ_PID_FILE: join(dir, "rabbitmq.pid"),
    ERL_EPMD_ADDRESS: "127.0.0.1"
  }
  let child: ChildProcess | undefined
  let exited: Promise<unknown> = Promise.resolve()
  const pid = () => (child && child.exitCode === null && child.signalCode === null ? child.pid : undefined)
  const ctl = (...args: ReadonlyArray<string>) =>
    run(join(scripts, "rabbitmqctl"), ["-n", name, "-q", ...args], { env, timeoutMs: 60_000 })
  const start = async () => {
    if (pid() !== undefined) return
    const log = openSync(join(dir, "server.log"), "a")
    // own process group: a cleanup can signal the shell script and the Erlang VM together
    child = spawn(join(scripts, "rabbitmq-server"), [], { env, stdio: ["ignore", log, log], detached: true })
    const current = child
    exited = new Promise((resolve) => current.once("exit", resolve))
    await waitFor(
      `RabbitMQ node ${name} (log: ${dir}/server.log)`,
      () => {
        if (current.exitCode !== null) throw new Error(`RabbitMQ exited while starting (log: ${dir}/server.log)`)
        return portOpen(options.port)
      },
      120_000
    )
    await ctl("await_startup")
  }
  const stop = async () => {
    const p = pid()
    if (p === undefined) return
    const pids = tree(p)
    await ctl("stop").catch(() => undefined)
    const reaped = () => within(exited, 30_000)
    if (!(await waitGone(pids, 30_000)) || !(await reaped())) {
      signalTree(p, "SIGKILL")
      await waitGone(pids, 10_000)
      await reaped()
    }
  }
  return {
    name,
    port: options.port,
    url: `amqp://guest:guest@127.0.0.1:${options.port}`,
    dir,
    pid,
    rss: () => {
      const p = pid()
      return p === undefined ? 0 : rss(tree(p))
    },
    start: () => start(),
    stop,
    closeConnections: async () => {
      await ctl("close_all_connections", "fault injection")
    },
    queues: async () =>
      (await ctl("list_queues", "name", "messages", "--no-table-headers"))
        .split("\n")
        .map((l) => l.trim().split(/\s+/))
        .filter((cols) => cols.length === 2 && /^\d+$/.test(cols[1]!))
        .map(([queueName, messages]) => ({ name: queueName!, messages: Number(messages) })),
    ctl,
    destroy: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
