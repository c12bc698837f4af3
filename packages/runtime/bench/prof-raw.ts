// TEMPORARY: raw kafkajs CPU
import { Kafka, logLevel, Partitioners } from "kafkajs"
const { startKafka } = await import("../test/kafka.ts")
const mock = await startKafka()
const n = 50000
const payload = (i: number) => ({ id: i, account: `acc-${i % 1000}`, amountMinor: 100 + (i % 977), note: "benchmark deposit" })
for (let round = 0; round < 3; round++) {
  const kafka = new Kafka({ clientId: "raw", brokers: [mock.bootstrap], logLevel: logLevel.ERROR })
  const topic = `raw_${Date.now()}_${round}`
  const producer = kafka.producer({ maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner })
  const consumer = kafka.consumer({ groupId: topic, maxWaitTimeInMs: 100 })
  await producer.connect(); await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let received = 0; let done = () => {}; const finished = new Promise<void>((r) => (done = r))
  await consumer.run({ partitionsConsumedConcurrently: 4, eachBatch: async ({ batch, resolveOffset }) => {
    for (const m of batch.messages) { JSON.parse(m.value!.toString()); resolveOffset(m.offset); if (++received === n) done() }
  } })
  const cpu0 = process.cpuUsage(); const t0 = performance.now()
  for (let i = 0; i < n; i += 1000) {
    const messages = []
    for (let j = i; j < Math.min(n, i + 1000); j++) { const p = payload(j); messages.push({ key: p.account, value: JSON.stringify(p) }) }
    await producer.send({ topic, acks: -1, messages })
  }
  await finished
  const ms = performance.now() - t0; const cpu = process.cpuUsage(cpu0)
  console.log(`raw: ${Math.round(n / ms * 1000)} msgs/s ${Math.round(ms)} ms node cpu ${Math.round((cpu.user + cpu.system) / 1000)} ms`)
  await consumer.disconnect(); await producer.disconnect()
}
await mock.stop()
process.exit(0)
