// The Deno smoke program: the example service under `deno run` with least permissions,
// round-tripping through HTTP, PostgreSQL and RabbitMQ (and again through Kafka), with
// Prometheus metrics.
import { assert, describe, it } from "@effect/vitest"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { kafkaAvailable, startKafka } from "./kafka.ts"
import { parsePrometheus, start } from "./process.ts"
import { AMQP_URL, createDatabase, postgresAvailable, rabbitAvailable, requireReal } from "./services.ts"

const deno = fileURLToPath(new URL("../../../node_modules/.bin/deno", import.meta.url))
const example = fileURLToPath(new URL("../example/tasks.ts", import.meta.url))
const repository = fileURLToPath(new URL("../../..", import.meta.url)).replace(/\/$/, "")
const hasDeno = existsSync(deno)
if (!hasDeno && requireReal) throw new Error(`deno is not installed at ${deno} (npm ci installs it)`)

// Submits a task, waits until the worker (behind the broker) finished it, and returns the metrics.
const roundTrip = async (env: Record<string, string>) => {
  const db = await createDatabase()
  const service = await start(
    deno,
    // Least privilege, as a service gets in stack mode and in the Deno image.
    ["run", "--allow-net", "--allow-env", `--allow-read=${repository}`, "--allow-sys=hostname", example],
    { DATABASE_URL: db.url, ...env },
    { timeoutMs: 60_000 }
  )
  try {
    const info = (await (await fetch(`${service.url}/api/v1/info`)).json()) as { runtime: string }
    assert.match(info.runtime, /^deno 2\./)
    const submitted = await fetch(`${service.url}/api/v1/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "from deno", workMs: 50 })
    })
    assert.strictEqual(submitted.status, 202)
    const { id } = (await submitted.json()) as { id: string }
    const done = (await (await fetch(`${service.url}/api/v1/tasks/${id}?waitMs=15000`)).json()) as { status: string }
    assert.strictEqual(done.status, "done")
    const { samples } = parsePrometheus(await (await fetch(`${service.url}/metrics`)).text())
    const consumed = samples.find((s) => s.name === "troupe_messages_consumed_total" && s.labels.consumer === "tasks")
    assert.strictEqual(consumed?.value, 1)
    // Process metrics Deno can report without --allow-all are real; the others are absent, not 0.
    const rss = samples.find((s) => s.name === "process_resident_memory_bytes")
    assert.isAbove(rss?.value ?? 0, 1_000_000)
    assert.isFalse(samples.some((s) => s.name === "process_open_fds"))
    assert.isTrue(samples.some((s) => s.name === "nodejs_eventloop_lag_p99_seconds"))
    assert.strictEqual(await service.stop("SIGTERM"), 0)
    return samples
  } finally {
    await service.stop("SIGKILL")
    await db.drop()
  }
}

describe.skipIf(!hasDeno || !postgresAvailable || !rabbitAvailable)("deno smoke program", () => {
  it("serves HTTP, round-trips a message through PostgreSQL and RabbitMQ, and exposes metrics", async () => {
    const samples = await roundTrip({ AMQP_URL })
    assert.isTrue(
      samples.some((s) => s.name === "troupe_actor_up" && s.labels.actor === "amqp-connection" && s.value === 1)
    )
  })
})

// Same program, same permissions, with KAFKA_BROKERS set: kafkajs runs on Deno's Node compatibility.
describe.skipIf(!hasDeno || !postgresAvailable || !kafkaAvailable)("deno smoke program on Kafka", () => {
  it("round-trips a message through PostgreSQL and Kafka (librdkafka mock cluster)", async () => {
    const broker = await startKafka()
    try {
      const samples = await roundTrip({ KAFKA_BROKERS: broker.bootstrap, KAFKA_CLIENT_ID: "tasks" })
      assert.isTrue(samples.some((s) => s.name === "troupe_actor_up" && s.labels.actor === "kafka" && s.value === 1))
      assert.isTrue(
        samples.some((s) => s.name === "troupe_kafka_partitions_assigned" && s.labels.group === "tasks" && s.value > 0)
      )
    } finally {
      await broker.stop()
    }
  })
})
