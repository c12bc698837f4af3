// A Kafka-protocol broker for tests: the mock cluster of librdkafka, embedded in Debian's kcat.
// `kcat -b x -X test.mock.num.brokers=1 -C -t keepalive -E -o end` starts it, logs its
// `127.0.0.1:PORT` on stderr and keeps it up while it runs (the consumer of `keepalive` is only
// there to keep the process alive). Every broker is private to its test file and dies with it,
// so there is nothing else to clean up. With REQUIRE_REAL_SERVICES=1 a missing kcat fails the suite.
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { accessSync, constants } from "node:fs"
import { delimiter, join } from "node:path"
import { requireReal } from "./services.ts"

const findKcat = (): string | undefined => {
  const candidates = process.env.KCAT
    ? [process.env.KCAT]
    : (process.env.PATH ?? "").split(delimiter).map((d) => join(d, "kcat"))
  for (const candidate of [...candidates, "/usr/bin/kcat"]) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

export const kcat = findKcat()
if (kcat === undefined && requireReal)
  throw new Error(
    "kcat is not installed (apt-get install kcat) and REQUIRE_REAL_SERVICES=1: the Kafka tests cannot run"
  )
if (kcat === undefined) console.warn("skipping Kafka tests: kcat is not installed (apt-get install kcat)")
export const kafkaAvailable = kcat !== undefined

export interface KafkaBroker {
  /** `127.0.0.1:PORT` */
  readonly bootstrap: string
  readonly process: ChildProcess
  readonly stop: () => Promise<void>
}

/** Starts a one-broker mock cluster; resolves with its bootstrap address. */
export const startKafka = (): Promise<KafkaBroker> =>
  new Promise((resolve, reject) => {
    if (kcat === undefined) return reject(new Error("kcat is not installed"))
    // Without `-d mock` the mock cluster still logs its address (a notice), and stays quiet
    // afterwards: with it, every request is logged, which costs the benchmark dearly.
    // KAFKA_MOCK_DEBUG=1 adds the mock's own request log (`-d mock,cgrp`) to stderr, for debugging.
    const debug = process.env.KAFKA_MOCK_DEBUG === "1" ? ["-d", "mock,cgrp"] : []
    const args = [
      "-b",
      "x",
      "-X",
      "test.mock.num.brokers=1",
      ...debug,
      "-C",
      "-t",
      "keepalive",
      "-E",
      "-o",
      "end",
      "-q"
    ]
    const proc = spawn(kcat, args, { stdio: ["ignore", "ignore", "pipe"] })
    if (debug.length > 0) proc.stderr!.on("data", (chunk: Buffer) => process.stderr.write(chunk))
    const kill = () => proc.kill("SIGKILL")
    process.once("exit", kill)
    const exited = new Promise<void>((done) => proc.once("exit", () => done()))
    let output = ""
    let found = false
    const timeout = setTimeout(() => {
      kill()
      reject(new Error(`kcat did not report a mock broker within 10 s:\n${output}`))
    }, 10_000)
    proc.once("error", (error) => {
      clearTimeout(timeout)
      reject(error)
    })
    proc.stderr!.on("data", (chunk: Buffer) => {
      if (found) return // keep draining stderr so kcat never blocks on it
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
    proc.once("exit", (code) => {
      clearTimeout(timeout)
      reject(new Error(`kcat exited with ${code} before reporting a mock broker:\n${output}`))
    })
  })

export interface KafkaRecordView {
  readonly partition: number
  readonly offset: number
  readonly key: string | null
  readonly payload: string | null
  readonly headers: Readonly<Record<string, string>>
}

/** Reads every record of `topic` (from the beginning to the current end) with kcat. */
export const readTopic = (bootstrap: string, topic: string): Promise<ReadonlyArray<KafkaRecordView>> =>
  new Promise((resolve, reject) => {
    execFile(
      kcat!,
      ["-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-J"],
      { timeout: 15_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (error) return reject(error)
        const records = stdout
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => {
            const json = JSON.parse(line) as {
              partition: number
              offset: number
              key: string | null
              payload: string | null
              headers?: ReadonlyArray<string>
            }
            const headers: Record<string, string> = {}
            for (let i = 0; i + 1 < (json.headers?.length ?? 0); i += 2)
              headers[json.headers![i]!] = json.headers![i + 1]!
            return { partition: json.partition, offset: json.offset, key: json.key, payload: json.payload, headers }
          })
        resolve(records)
      }
    )
  })

/**
 * Dead letters of `<topic>.dlq`, each returned once across calls (like reading them off a queue).
 */
export const deadLetterReader = (bootstrap: () => string) => {
  const seen = new Set<string>()
  return async (topic: string) => {
    const records = await readTopic(bootstrap(), `${topic}.dlq`)
    const fresh = records.filter((r) => !seen.has(`${topic}/${r.partition}/${r.offset}`))
    for (const r of fresh) seen.add(`${topic}/${r.partition}/${r.offset}`)
    return fresh.map((r) => ({
      id: r.headers["ce_id"] ?? "",
      type: r.headers["ce_type"] ?? "",
      reason: r.headers["x-error-reason"] ?? "",
      error: r.headers["x-error"] ?? "",
      headers: r.headers
    }))
  }
}
