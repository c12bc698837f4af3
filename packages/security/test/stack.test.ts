// Stack mode (a process per service, real PostgreSQL, RabbitMQ and a Kafka-protocol broker):
// hostile messages on every queue and topic, login brute force per address, and — over logs
// and response bodies of the whole run — the scan for secrets.
import { AMQPClient } from "@cloudamqp/amqp-client"
import * as KafkaMock from "@microbank/microbank/src/KafkaMock.ts"
import * as Secrets from "@microbank/microbank/src/Secrets.ts"
import * as Stack from "@microbank/microbank/src/Stack.ts"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kafka, logLevel } from "kafkajs"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Infra from "../src/Infra.ts"
import { Client, eventually } from "../src/Microbank.ts"

const ready = await Infra.available()
const run = `sec_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
/** Login and registration attempts per minute per address in this stack (the default is 60). */
const authLimit = 30

interface Hostile {
  readonly name: string
  readonly body: string | Uint8Array
  readonly properties: Record<string, unknown>
  /** Valid as far as the message's schema goes (extra fields are ignored): handled, or dead-lettered. */
  readonly mayBeHandled?: boolean
}

describe.skipIf(!ready)("stack mode under attack (real PostgreSQL, RabbitMQ, Kafka protocol)", () => {
  let stack: Stack.Stack
  let broker: ReturnType<typeof Infra.vhost>
  let kafka: KafkaMock.Broker
  let dir: string
  let secrets: Secrets.Secrets
  let database: { url: string; password: string }
  const seen: Array<string> = []
  const tokens = new Set<string>()
  const passwords = new Set<string>()
  let admin: Client
  const remember = (c: Client) => {
    if (c.token) tokens.add(c.token)
    return c
  }

  beforeAll(async () => {
    kafka = await KafkaMock.start()
    dir = mkdtempSync(join(tmpdir(), "microbank-security-stack-"))
    secrets = Secrets.load(dir).secrets
    broker = Infra.vhost(run)
    database = Infra.postgresWithPassword()
    stack = await Stack.start({
      databaseUrl: database.url,
      amqpUrl: broker.url,
      kafkaBrokers: kafka.bootstrap,
      secrets,
      databasePrefix: `${run}_`,
      logDir: join(dir, "logs"),
      env: { PASSWORD_SCRYPT_LOG_N: "14", AUTH_RATE_LIMIT_PER_MINUTE: String(authLimit) }
    })
    admin = remember(await new Client(stack.gatewayUrl, undefined, seen).login("admin", secrets.adminPassword))
    passwords.add(secrets.adminPassword)
  }, 180_000)

  afterAll(async () => {
    await stack?.stop()
    await stack?.dropDatabases()
    broker?.remove()
    await kafka?.stop()
    if (process.env.KEEP_STACK_LOGS) console.log(`stack logs kept in ${dir}`)
    else if (dir) rmSync(dir, { recursive: true, force: true })
  }, 90_000)

  const customer = async (name: string) => {
    const c = await admin.customer(name)
    passwords.add(c.password)
    remember(c.client)
    return c
  }

  const marker = `hostile-${run}`
  const hostileMessages = (type: string, valid: Record<string, unknown>): ReadonlyArray<Hostile> => {
    const id = () => crypto.randomUUID()
    const props = (extra: Record<string, unknown> = {}) => ({
      messageId: id(),
      type,
      headers: { "x-key": marker },
      ...extra
    })
    return [
      { name: "not JSON", body: `{not json ${marker}`, properties: props() },
      {
        name: "invalid UTF-8",
        body: new Uint8Array([...Buffer.from(`{"m":"${marker}`), 0xff, 0xfe, 0x22, 0x7d]),
        properties: props()
      },
      { name: "wrong schema", body: JSON.stringify({ marker, nothing: "expected" }), properties: props() },
      { name: "unknown type", body: JSON.stringify({ ...valid, marker }), properties: props({ type: "evil.type" }) },
      { name: "no message id", body: JSON.stringify({ ...valid, marker }), properties: { type, headers: {} } },
      { name: "no type", body: JSON.stringify({ ...valid, marker }), properties: { messageId: id() } },
      { name: "no properties at all", body: JSON.stringify({ ...valid, marker }), properties: {} },
      {
        name: "id that is SQL",
        body: JSON.stringify({ ...valid, marker }),
        properties: props({ messageId: "x'); drop table troupe_inbox; --" })
      },
      {
        name: "huge payload (5 MB)",
        body: JSON.stringify({ marker, blob: "x".repeat(5 * 1024 * 1024) }),
        properties: props()
      },
      {
        // Valid fields, and 100 000 levels of nesting where a JSON value is allowed.
        name: "100 000 levels deep",
        body: `${JSON.stringify({ ...valid, marker }).slice(0, -1)},"data":${"[".repeat(100_000)}${"]".repeat(100_000)}}`,
        properties: props(),
        mayBeHandled: !("data" in valid)
      },
      {
        name: "right shape, hostile values",
        body: JSON.stringify({
          ...Object.fromEntries(
            Object.entries(valid).map(([k, v]) => [k, typeof v === "string" ? `${marker}' or 1=1; --` : v])
          )
        }),
        properties: props()
      }
    ]
  }

  const amqp = async <A>(f: (channel: Awaited<ReturnType<AMQPClient["channel"]>>) => Promise<A>) => {
    const client = new AMQPClient(broker.url)
    const connection = await client.connect()
    try {
      return await f(await connection.channel())
    } finally {
      await connection.close()
    }
  }

  const latin1 = (body: string | Uint8Array) => Buffer.from(body).toString("latin1")

  /** Takes every message off `<queue>.dlq`, keeping ours (by marker), until every `mustDie` is there. */
  const drainDeadLetters = async (queue: string, mustDie: ReadonlyArray<Hostile>) => {
    const found: Array<{ body: string; headers: Record<string, unknown> }> = []
    const deadline = Date.now() + 60_000
    const missing = () => mustDie.filter((m) => !found.some((f) => f.body === latin1(m.body))).map((m) => m.name)
    while (missing().length > 0) {
      if (Date.now() > deadline)
        throw new Error(
          `${queue}.dlq after 60 s lacks ${missing().length} of ${mustDie.length}: ${missing().join(", ")}\n` +
            `queues (name, ready, unacked, consumers):\n${broker.queues()}`
        )
      await amqp(async (channel) => {
        for (;;) {
          const message = await channel.basicGet(`${queue}.dlq`, { noAck: true })
          if (message === null) break
          const body = latin1(message.body ?? new Uint8Array())
          if (body.includes(marker)) found.push({ body, headers: message.properties.headers ?? {} })
        }
      })
      await new Promise((r) => setTimeout(r, 250))
    }
    // Stragglers (messages that may also be handled) have had the same time.
    await new Promise((r) => setTimeout(r, 1_000))
    return found
  }

  /** Restarts of a service's consumers so far (the broker outage of the scenario restarts them once). */
  const consumerRestarts = async (service: Stack.Service) => {
    let total = 0
    for (const instance of stack.of(service)) {
      const metrics = await (await fetch(`${instance.url}/metrics`)).text()
      for (const m of metrics.matchAll(/^troupe_actor_restarts_total\{[^}]*actor="consumer[^}]*\} (\d+)/gm))
        total += Number(m[1])
    }
    return total
  }

  const consumersStayedUp = async (service: Stack.Service, restartsBefore: number) => {
    for (const instance of stack.of(service)) {
      assert.strictEqual(instance.process.exitCode, null, `${service} is running`)
      assert.strictEqual((await fetch(`${instance.url}/health/ready`)).status, 200, `${service} is ready`)
    }
    assert.strictEqual(await consumerRestarts(service), restartsBefore, `${service}: no consumer restarted`)
  }

  it("a full scenario: accounts, transfers, notifications, purchases, ingest, jobs, failures, a broker outage", async () => {
    const alice = await customer("alice")
    const bob = await customer("bob")
    const a = alice.client
    const checking = (await a.post("/api/accounts", { account_type: "checking", initial_deposit: "250.00" })).body
    const savings = (await a.post("/api/accounts", { account_type: "savings" })).body
    assert.strictEqual((await a.post(`/api/accounts/${checking.id}/deposits`, { amount: "10.00" })).status, 201)
    assert.strictEqual(
      (await a.post("/api/transfers", { from_account_id: checking.id, to_account_id: savings.id, amount: 5 })).status,
      201
    )
    assert.strictEqual((await a.post(`/api/accounts/${savings.id}/withdrawals`, { amount: "1000.00" })).status, 422)
    assert.strictEqual(
      (await a.post("/api/v1/buy", { username: alice.user.username, userid: alice.user.id, price: "3.50" })).status,
      202
    )
    assert.strictEqual(
      (await a.post("/api/v1/ingest", { type: "scan", source: "security", data: { ok: true } })).status,
      202
    )
    const job = (
      await a.post("/api/jobs", { job_name: "s", kind: "account_statement", params: { account_id: checking.id } })
    ).body
    await eventually(
      async () => ((await a.get(`/api/jobs/${job.id}`)).body.status === "succeeded" ? true : undefined),
      60_000,
      "the job"
    )
    assert.strictEqual((await a.get(`/api/jobs/${job.id}/result`)).status, 200)
    await eventually(
      async () => ((await a.get("/api/notifications")).body.length >= 3 ? true : undefined),
      30_000,
      "notifications"
    )
    await eventually(
      async () => ((await a.get(`/api/v1/purchases/${alice.user.id}`)).body.length === 1 ? true : undefined),
      30_000,
      "purchase"
    )
    // Failures that write logs: wrong passwords, bad tokens, a token where it does not belong, another's data.
    assert.strictEqual(
      (await a.as(undefined).post("/api/auth/login", { username: alice.username, password: bob.password })).status,
      401
    )
    assert.strictEqual((await a.as(`${a.token}x`).get("/api/me")).status, 401)
    assert.strictEqual((await a.as(undefined).get(`/api/me?access_token=${a.token}`)).status, 401)
    assert.strictEqual((await bob.client.get(`/api/accounts/${checking.id}`)).status, 404)
    // The broker drops every connection: services reconnect (and log it).
    broker.dropConnections()
    await eventually(
      async () =>
        (await a.post(`/api/accounts/${checking.id}/deposits`, { amount: "1.00" })).status === 201 ? true : undefined,
      60_000,
      "a deposit after the broker dropped its connections"
    )
    await eventually(
      async () => ((await a.get("/api/notifications")).body.length >= 4 ? true : undefined),
      60_000,
      "notification after reconnect"
    )
  })

  it("hostile messages on the AMQP queues (notifications, ingest.records) are dead-lettered with their error; good ones still flow", async () => {
    const queues = [
      {
        queue: "notifications",
        service: "notifications" as const,
        type: "transaction.completed",
        valid: {
          transaction_id: crypto.randomUUID(),
          account_id: crypto.randomUUID(),
          user_id: crypto.randomUUID(),
          transaction_type: "deposit",
          amount: "1.00",
          amount_minor: 100,
          balance_after: "1.00",
          currency: "USD",
          message: "x"
        }
      },
      {
        queue: "ingest.records",
        service: "ingest" as const,
        type: "ingest.record.received",
        valid: { id: crypto.randomUUID(), type: "t", source: "s", data: 1, received_at: new Date().toISOString() }
      }
    ]
    for (const { queue, service, type, valid } of queues) {
      const messages = hostileMessages(type, valid)
      const restarts = await consumerRestarts(service)
      // With publisher confirms: without them a publish resolves once written to the socket, and
      // the broker may drop what it has not routed yet when the connection closes right after.
      await amqp(async (channel) => {
        await channel.confirmSelect()
        for (const m of messages) await channel.basicPublish("", queue, m.body, m.properties)
      })
      const mustDie = messages.filter((m) => !m.mayBeHandled)
      const dead = await drainDeadLetters(queue, mustDie)
      assert.isAtLeast(dead.length, mustDie.length, `${queue}: every hostile message is in ${queue}.dlq`)
      for (const d of dead) {
        assert.isString(d.headers["x-error"], `${queue}: the dead letter carries its error`)
        assert.oneOf(d.headers["x-error-reason"], ["poison", "exhausted"])
      }
      await consumersStayedUp(service, restarts)
    }
    // Good messages still flow, through the same consumers.
    const { client, user } = await customer("carol")
    const account = (await client.post("/api/accounts", { account_type: "checking", initial_deposit: "5.00" })).body
    await eventually(
      async () =>
        (await client.get("/api/notifications")).body.some((n: any) => n.message.includes("5.00")) ? true : undefined,
      30_000,
      "a notification after the hostile messages"
    )
    const tag = `after${Date.now()}`
    assert.strictEqual((await client.post("/api/v1/ingest", { type: tag, source: "s", data: 1 })).status, 202)
    await eventually(
      async () => ((await client.get(`/api/v1/ingest/recent?type=${tag}`)).body.length === 1 ? true : undefined),
      30_000,
      "ingest after the hostile messages"
    )
    assert.isString(account.id)
    assert.isString(user.id)
  })

  it("hostile records on the Kafka topic purchases go to purchases.dlq with their error; the consumer group keeps storing purchases", async () => {
    const client = new Kafka({ clientId: `security-${run}`, brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING })
    const producer = client.producer()
    await producer.connect()
    const valid = { id: crypto.randomUUID(), userid: "u", username: "n", price_minor: 100, timestamp: 1 }
    const restarts = await consumerRestarts("purchases")
    // The mock broker caps records at 1 MB. A record of another type (or, today, with no ce_type
    // header at all) is skipped by a topic subscription: other subscribers may want it.
    const hostile = hostileMessages("purchase.recorded", valid)
      .filter((m) => !m.name.startsWith("huge"))
      .map((m) =>
        ["unknown type", "no type", "no properties at all"].includes(m.name) ? { ...m, mayBeHandled: true } : m
      )
    const headers = (m: Hostile): Record<string, string> => {
      const p = m.properties as { messageId?: string; type?: string }
      return {
        ...(p.messageId ? { ce_id: p.messageId } : {}),
        ...(p.type ? { ce_type: p.type } : {}),
        ...(Object.keys(m.properties).length > 0 ? { ce_specversion: "1.0", ce_time: new Date().toISOString() } : {})
      }
    }
    await producer.send({
      topic: "purchases",
      messages: [
        ...hostile.map((m) => ({ key: marker, value: Buffer.from(m.body), headers: headers(m) })),
        {
          key: marker,
          value: Buffer.from(JSON.stringify({ marker, blob: "x".repeat(900_000) })),
          headers: { ce_id: crypto.randomUUID(), ce_type: "purchase.recorded" }
        }
      ]
    })
    await producer.disconnect()
    const expected = hostile.filter((m) => !m.mayBeHandled).length + 1
    const dead: Array<{ value: string; headers: Record<string, string> }> = []
    const consumer = client.consumer({ groupId: `security-dlq-${run}` })
    await consumer.connect()
    await consumer.subscribe({ topic: "purchases.dlq", fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = message.value?.toString("latin1") ?? ""
        if (!value.includes(marker)) return
        dead.push({
          value,
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]))
        })
      }
    })
    try {
      const deadline = Date.now() + 90_000
      while (dead.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250))
    } finally {
      await consumer.disconnect()
    }
    assert.isAtLeast(dead.length, expected, `records in purchases.dlq`)
    for (const d of dead) assert.isString(d.headers["x-error"], "the dead letter carries its error")
    await consumersStayedUp("purchases", restarts)
    const { client: dave, user } = await customer("dave")
    assert.strictEqual(
      (await dave.post("/api/v1/buy", { username: user.username, userid: user.id, price: "1.25" })).status,
      202
    )
    await eventually(
      async () => ((await dave.get(`/api/v1/purchases/${user.id}`)).body.length === 1 ? true : undefined),
      60_000,
      "a purchase after the hostile records"
    )
  })

  it(`login and registration from one address are limited (${authLimit} a minute): 429 with Retry-After`, async () => {
    const anonymous = admin.as(undefined)
    const statuses: Array<number> = []
    let limited: { headers: Headers; body: any } | undefined
    for (let i = 0; i < authLimit + 5 && statuses.filter((s) => s === 429).length < 3; i++) {
      // A different username every time: only the per-address limit can stop this (credential
      // stuffing); a forged x-forwarded-for does not make a new address (TRUST_PROXY is off).
      const r = await anonymous.post(
        "/api/auth/login",
        { username: `stuffing${i}`, password: `guess-${i}` },
        { "x-forwarded-for": `10.0.${i}.1` }
      )
      statuses.push(r.status)
      if (r.status === 429) limited = r
    }
    const first = statuses.indexOf(429)
    assert.isAbove(first, authLimit - 12, `attempts before the limit: ${statuses.join(",")}`)
    assert.isTrue(
      statuses.slice(first).every((s) => s === 429),
      statuses.join(",")
    )
    assert.match(limited!.headers.get("retry-after") ?? "", /^\d+$/)
    const registration = await anonymous.post("/api/auth/register", {
      username: "late",
      name: "L",
      email: "l@example.com",
      password: "long enough pw"
    })
    assert.strictEqual(registration.status, 429, "registration shares the per-address limit")
  })

  it("no secret appears in any log line or response body of the run", async () => {
    await stack.stop()
    const logDir = join(dir, "logs")
    const files = readdirSync(logDir)
    assert.isAtLeast(files.length, 7, "one log per service")
    const lines = files.flatMap((f) =>
      readFileSync(join(logDir, f), "utf8")
        .split("\n")
        .map((line, i) => ({ where: `${f}:${i + 1}`, line }))
    )
    assert.isAbove(lines.length, 20, "the services logged")
    assert.isTrue(
      lines.some((l) => l.line.includes("dead-lettered")),
      "the logs hold this run's dead letters (and so their errors)"
    )
    const named: Array<[string, string]> = [
      ["JWT signing key", secrets.jwtKey],
      ["database password", database.password],
      ["AMQP password", broker.password],
      ...[...passwords].map((p): [string, string] => ["a user's password", p]),
      ...[...tokens].map((t): [string, string] => ["a bearer token", t]),
      ...[...tokens].map((t): [string, string] => ["a bearer token's signature", t.split(".")[2]!])
    ]
    assert.isAtLeast(tokens.size, 5)
    const leaks: Array<string> = []
    for (const { where, line } of lines)
      for (const [what, value] of named) if (line.includes(value)) leaks.push(`${where}: ${what}`)
    for (const [i, body] of seen.entries()) {
      for (const [what, value] of named) {
        // A login answer carries its own token, and nothing else.
        if (what.startsWith("a bearer token") && body.includes('"access_token"')) continue
        if (body.includes(value)) leaks.push(`response body #${i}: ${what}`)
      }
    }
    assert.isAbove(seen.length, 60, "response bodies were collected")
    assert.deepStrictEqual(leaks, [])
  })
})
