/**
 * `npm run stack`: Microbank as a stack of processes against real PostgreSQL and RabbitMQ.
 *
 *   DATABASE_URL  admin URL (creates microbank_<service> databases)   default postgres://postgres@127.0.0.1:5432/postgres
 *   AMQP_URL      RabbitMQ                                            default amqp://guest:guest@127.0.0.1:5672
 *   PORT          gateway port                                        default 8080
 *   --runtime node|deno, --replicas accounts=2
 */
import { resolve } from "node:path"
import { parseArgs } from "node:util"
import * as KafkaMock from "./KafkaMock.ts"
import * as Secrets from "./Secrets.ts"
import * as Stack from "./Stack.ts"

const { values } = parseArgs({
  options: { runtime: { type: "string", default: "node" }, replicas: { type: "string", multiple: true, default: [] } }
})
const runtime = values.runtime === "deno" ? "deno" : "node"
const replicas: Partial<Record<Stack.Service, number>> = {}
for (const spec of values.replicas ?? []) {
  const [service, n] = spec.split("=")
  if (!Stack.services.includes(service as Stack.Service) || !Number(n)) {
    console.error(
      `--replicas expects <service>=<count> with a service among ${Stack.services.join(", ")}; got "${spec}"`
    )
    process.exit(1)
  }
  replicas[service as Stack.Service] = Number(n)
}

const dataDir = resolve(process.env.DATA_DIR ?? ".stack")
const { secrets, file } = Secrets.load(dataDir)
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
const amqpUrl = process.env.AMQP_URL ?? "amqp://guest:guest@127.0.0.1:5672"
const redact = (url: string) => url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1@")

console.log(`starting Microbank stack (${runtime}) against ${redact(databaseUrl)} and ${redact(amqpUrl)} ...`)
// Purchases stream through Kafka: KAFKA_BROKERS, or a local mock broker when kcat is installed.
let kafka: KafkaMock.Broker | undefined
let kafkaBrokers = process.env.KAFKA_BROKERS
if (kafkaBrokers === undefined && KafkaMock.available()) {
  kafka = await KafkaMock.start()
  kafkaBrokers = kafka.bootstrap
  console.log(`Kafka: a local mock broker (kcat) on ${kafkaBrokers}`)
} else if (kafkaBrokers === undefined) {
  console.log("Kafka: KAFKA_BROKERS is not set and kcat is not installed; purchases use RabbitMQ")
}
try {
  const stack = await Stack.start({
    databaseUrl,
    amqpUrl,
    ...(kafkaBrokers ? { kafkaBrokers } : {}),
    secrets,
    runtime,
    replicas,
    gatewayPort: Number(process.env.PORT ?? 8080),
    logDir: resolve(dataDir, "logs"),
    onLog: (service, line) => console.log(`[${service}] ${line}`)
  })
  console.log(
    [
      "",
      `  Microbank stack is running: ${stack.gatewayUrl}  (docs: ${stack.gatewayUrl}/docs)`,
      ...stack.instances.map((i) => `    ${i.service.padEnd(14)} ${i.url}  pid ${i.process.pid}`),
      `  Admin: admin / ${secrets.adminPassword}   (${file})`,
      `  Logs:  ${resolve(dataDir, "logs")}`,
      "  Stop with Ctrl-C.",
      ""
    ].join("\n")
  )
  let stopping = false
  const shutdown = async () => {
    if (stopping) return
    stopping = true
    console.log("stopping ...")
    await stack.stop()
    await kafka?.stop()
    console.log("stopped")
    process.exit(0)
  }
  process.on("SIGINT", shutdown)
  process.on("SIGTERM", shutdown)
  for (const instance of stack.instances) {
    void instance.exited.then((code) => {
      if (!stopping) console.error(`[${instance.service}] exited unexpectedly with code ${code}; see its log`)
    })
  }
} catch (error) {
  console.error(`cannot start the stack: ${(error as Error).message}`)
  process.exit(1)
}
