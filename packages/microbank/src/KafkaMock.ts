/**
 * A local Kafka-protocol broker for stack mode and tests: librdkafka's mock cluster, embedded
 * in Debian's `kcat`. It keeps its data in memory and lives as long as the kcat process.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"

export interface Broker {
  /** `127.0.0.1:PORT` */
  readonly bootstrap: string
  readonly process: ChildProcess
  readonly stop: () => Promise<void>
}

export const available = (): boolean => spawnSync("kcat", ["-V"], { stdio: "ignore" }).status === 0

export const start = (): Promise<Broker> =>
  new Promise((resolve, reject) => {
    const proc = spawn(
      "kcat",
      ["-b", "x", "-X", "test.mock.num.brokers=1", "-C", "-t", "keepalive", "-E", "-o", "end", "-q"],
      {
        stdio: ["ignore", "ignore", "pipe"]
      }
    )
    const kill = () => proc.kill("SIGKILL")
    process.once("exit", kill)
    const exited = new Promise<void>((done) => proc.once("exit", () => done()))
    let output = ""
    let found = false
    const timeout = setTimeout(() => {
      kill()
      reject(new Error(`kcat did not start a mock Kafka broker within 10 s:\n${output}`))
    }, 10_000)
    proc.once("error", (error) => {
      clearTimeout(timeout)
      reject(new Error(`cannot run kcat (apt-get install kcat): ${error.message}`))
    })
    proc.stderr!.on("data", (chunk: Buffer) => {
      if (found) return // keep draining stderr
      output += chunk.toString()
      const match = /(?:bootstrap\.servers=|replaced with )(127\.0\.0\.1:\d+)/.exec(output)
      if (!match) return
      found = true
      clearTimeout(timeout)
      resolve({
        bootstrap: match[1]!,
        process: proc,
        stop: async () => {
          process.removeListener("exit", kill)
          if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM")
          const killer = setTimeout(kill, 3_000)
          await exited
          clearTimeout(killer)
        }
      })
    })
  })
