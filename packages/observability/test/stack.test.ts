// The proof: Microbank in stack mode (a process per service, real PostgreSQL and RabbitMQ) scraped
// by Debian's Prometheus with the scrape configuration made from the registry's ServiceMonitors
// and the rules of the PrometheusRule. Under load from the load generator every panel query of
// every dashboard returns data (or is marked cluster-only / pending), every rule evaluates, no
// alert fires on the healthy system, and breaking services turns the matching alerts on.
import { AMQPClient, type AMQPChannel } from "@cloudamqp/amqp-client"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { stringify } from "yaml"
import * as KafkaMock from "../../microbank/src/KafkaMock.ts"
import * as Secrets from "../../microbank/src/Secrets.ts"
import * as Stack from "../../microbank/src/Stack.ts"
import { dashboards } from "../src/Dashboards.ts"
import { panelsOf } from "../src/Grafana.ts"
import * as Load from "../src/load.ts"
import { alerts, groups, ruleFile } from "../src/Rules.ts"
import { scrapeConfig } from "../src/Scrape.ts"
import { eventually, PG, psql, rabbitmqctl, startPrometheus, unavailable, vhost, type Prometheus } from "./infra.ts"
import { substitute, variableQuery } from "./queries.ts"

if (unavailable.length > 0) console.warn(`stack test skipped; missing: ${unavailable.join(", ")}`)

interface Answer {
  readonly status: number
  readonly body: any
}
const call = async (base: string, method: string, path: string, token?: string, body?: unknown): Promise<Answer> => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? { authorization: `Bearer ${token}` } : {})
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Alerts whose state on a healthy stack depends on the speed of the machine running the test. */
const machineDependent = new Set([
  "MicrobankLatencyBudgetBurnFast",
  "MicrobankLatencyBudgetBurnSlow",
  "MicrobankScrapeTargetDown",
  "MicrobankEventLoopLagHigh"
])

interface ActiveAlert {
  readonly labels: Record<string, string>
  readonly state: string
}

describe.skipIf(unavailable.length > 0)("stack mode scraped by Prometheus", () => {
  const run = `obs_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
  let dir: string
  let broker: ReturnType<typeof vhost>
  let stack: Stack.Stack | undefined
  let prometheus: Prometheus | undefined
  let amqp: AMQPClient | undefined
  let channel: AMQPChannel
  let secrets: Secrets.Secrets
  let kafka: KafkaMock.Broker | undefined
  const frozen = new Set<Stack.Instance>()
  const tap = `${run}.tap`

  const activeAlerts = async () => (await prometheus!.get<{ alerts: Array<ActiveAlert> }>("/api/v1/alerts")).alerts
  const metricOf = async (instance: Stack.Instance, pattern: RegExp) => {
    const text = await (await fetch(`${instance.url}/metrics`)).text()
    return [...text.matchAll(pattern)].reduce((sum, m) => sum + Number(m[1]), 0)
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "observability-stack-"))
    secrets = Secrets.load(join(dir, "data")).secrets
    broker = vhost(run)
    kafka = await KafkaMock.start()
    stack = await Stack.start({
      databaseUrl: PG,
      amqpUrl: broker.serviceUrl,
      kafkaBrokers: kafka.bootstrap,
      secrets,
      databasePrefix: `${run}_`,
      logDir: join(dir, "logs"),
      // the per-username login limit keeps its default: the load's wrong passwords run into it
      env: { PASSWORD_SCRYPT_LOG_N: "14", AUTH_RATE_LIMIT_PER_MINUTE: "100000", RATE_LIMIT_PER_MINUTE: "100000" }
    })
    writeFileSync(join(dir, "rules.yaml"), stringify(ruleFile()))
    const targets = stack.instances.map((i) => ({
      service: i.service,
      pod: `${i.service}-${i.index + 1}`,
      address: new URL(i.url).host
    }))
    prometheus = await startPrometheus(
      join(dir, "prometheus"),
      scrapeConfig(targets, { interval: "1s", ruleFiles: [join(dir, "rules.yaml")] }),
      await Stack.freePort()
    )
    // a copy of every event, to replay one as a duplicate later
    amqp = new AMQPClient(broker.adminUrl)
    channel = await (await amqp.connect()).channel()
    await channel.queueDeclare(tap, { exclusive: true, autoDelete: true })
    await channel.queueBind(tap, "banking_events", "#")
    await eventually(
      async () => ((await prometheus!.query("up == 1")).length === targets.length ? true : undefined),
      30_000,
      "every target up in Prometheus"
    )
  }, 180_000)

  afterAll(async () => {
    for (const i of frozen) i.process.kill("SIGCONT")
    await amqp?.close().catch(() => undefined)
    if (stack) {
      await Promise.all(stack.instances.map((i) => Promise.race([i.kill("SIGTERM"), sleep(5_000)])))
      await Promise.all(stack.instances.map((i) => i.kill("SIGKILL")))
    }
    await prometheus?.stop()
    await kafka?.stop()
    const databases = psql(PG, `select datname from pg_database where datname like '${run}\\_%'`)
    for (const name of databases.split("\n").filter(Boolean)) psql(PG, `drop database if exists "${name}" with (force)`)
    broker?.remove()
    if (dir) rmSync(dir, { recursive: true, force: true })
  }, 90_000)

  it("under the load generator's mix, every rule evaluates and no alert fires that should not", async () => {
    const summary = await Load.run({
      url: stack!.gatewayUrl,
      ops: 500,
      durationMs: 45_000,
      concurrency: 6,
      customers: 6,
      admin: { username: "admin", password: secrets.adminPassword },
      seed: 7,
      progress: "none"
    })
    const names = summary.operations.map((o) => o.name)
    for (const op of [
      "login",
      "deposit",
      "withdrawal",
      "transfer",
      "get account",
      "notifications",
      "list users (admin)"
    ])
      assert.include(names, op)
    assert.strictEqual(summary.total.serverErrors, 0, Load.table(summary))
    assert.strictEqual(summary.total.failures, 0, Load.table(summary))
    assert.isAbove(summary.total.ok, 400)

    // Prometheus has scraped the gateway after the last request of the load
    const sent = summary.total.count
    await eventually(
      async () => {
        const [row] = await prometheus!.query('sum(troupe_http_requests_total{service="gateway", route!~"/health/.*"})')
        return row && Number(row.value[1]) >= sent ? true : undefined
      },
      30_000,
      `Prometheus to count the gateway's ${sent} requests`
    )
    const scraped = Date.now() / 1000
    type Rules = {
      groups: Array<{
        name: string
        lastEvaluation: string
        rules: Array<{ name: string; health: string; lastError?: string }>
      }>
    }
    const rules = await eventually(
      async () => {
        const data = await prometheus!.get<Rules>("/api/v1/rules")
        return data.groups.length === groups.length &&
          data.groups.every((g) => Date.parse(g.lastEvaluation) / 1000 > scraped + 1)
          ? data
          : undefined
      },
      30_000,
      "every rule group evaluated after the load"
    )
    const evaluated = rules.groups.flatMap((g) => g.rules)
    assert.strictEqual(
      evaluated.length,
      groups.reduce((n, g) => n + g.rules.length, 0)
    )
    for (const r of evaluated) assert.strictEqual(r.health, "ok", `${r.name}: ${r.lastError ?? ""}`)

    const firing = (await activeAlerts()).filter((a) => !machineDependent.has(a.labels.alertname!))
    assert.deepStrictEqual(
      firing.map((a) => a.labels),
      [],
      "no alert on a healthy stack"
    )
  }, 150_000)

  it("trouble shows: a brute-forced login rate limited, a handler failing and retried, a duplicate skipped, a poison message dead-lettered", async () => {
    const notifications = stack!.of("notifications")[0]!
    // 12 wrong passwords for one username within a minute: the last ones are refused (429)
    const guesses: Array<number> = []
    for (let i = 0; i < 12; i++)
      guesses.push(
        (
          await call(stack!.gatewayUrl, "POST", "/api/auth/login", undefined, {
            username: `mallory${run}`,
            password: `guess ${i}`
          })
        ).status
      )
    assert.include(guesses, 429, guesses.join(","))

    // From here on accounts may no longer publish transaction events (its outbox fills up; see the last test).
    rabbitmqctl("set_topic_permissions", "-p", run, run, "banking_events", "^user[.]", ".*")

    // a duplicate: an event notifications has handled, delivered to its queue once more
    const copy = await channel.basicGet(tap, { noAck: true })
    assert.isNotNull(copy, "the tap queue holds copies of the events")
    await channel.basicPublish("", "notifications", copy!.body, copy!.properties)
    // a poison message: not an envelope at all
    await channel.basicPublish("", "notifications", "this is not an event", { contentType: "text/plain" })

    // the handler's table is gone for a moment: user.created events fail and are retried
    const db = stack!.databaseUrl("notifications")
    psql(db, "alter table notifications rename to notifications_away")
    try {
      for (let i = 0; i < 2; i++) {
        const name = `retry${run}${i}`.replace(/_/g, "")
        const r = await call(stack!.gatewayUrl, "POST", "/api/auth/register", undefined, {
          username: name,
          name: "Retry Tester",
          email: `${name}@example.com`,
          password: "correct horse battery"
        })
        assert.strictEqual(r.status, 201, JSON.stringify(r.body))
      }
      await eventually(
        async () =>
          (await metricOf(notifications, /^troupe_message_retries_total\{[^}]*\} (\d+)/gm)) > 0 ? true : undefined,
        30_000,
        "a retried handler attempt"
      )
    } finally {
      psql(db, "alter table notifications_away rename to notifications")
    }

    for (const expr of [
      'rate(troupe_message_retries_total{service="notifications"}[1m])',
      'rate(troupe_inbox_duplicates_total{service="notifications"}[1m]) and troupe_inbox_duplicates_total > 0',
      'rate(troupe_messages_dead_lettered_total{service="notifications", reason="poison"}[1m])',
      'rate(microbank_rate_limited_total{service="gateway"}[1m])'
    ])
      await eventually(
        async () => ((await prometheus!.query(expr)).length > 0 ? true : undefined),
        30_000,
        `Prometheus: ${expr}`
      )
  }, 90_000)

  it("every panel query of every dashboard returns data, unless marked cluster-only or pending", async () => {
    const subs = { namespace: "microbank", service: ".*", rateInterval: "1m", range: "15m" }
    const problems: Array<string> = []
    let checked = 0
    for (const d of dashboards) {
      for (const v of d.variables) {
        const rows = await prometheus!.query(substitute(variableQuery(v.query), subs))
        if (rows.length === 0) problems.push(`${d.uid}: variable ${v.name} has no values (${v.query})`)
      }
      for (const { panel } of panelsOf(d))
        for (const q of panel.queries) {
          const expr = substitute(q.expr, subs)
          const where = `${d.uid} / ${panel.title}: ${expr}`
          let rows: Array<unknown>
          try {
            rows = await prometheus!.query(expr)
          } catch (error) {
            problems.push(`${where}: ${(error as Error).message}`)
            continue
          }
          checked++
          const source = panel.source ?? { kind: "stack" }
          if (source.kind === "stack" && rows.length === 0 && !q.rare) problems.push(`${where}: no data`)
          if (source.kind === "cluster" && rows.length > 0)
            problems.push(`${where}: marked cluster-only (${source.reason}) but has data locally`)
          if (source.kind === "pending") {
            if ((Stack.services as ReadonlyArray<string>).includes(source.service))
              problems.push(`${where}: marked pending on ${source.service}, which stack mode runs now: drop the mark`)
            if (rows.length > 0) problems.push(`${where}: marked pending but has data`)
          }
        }
    }
    assert.deepStrictEqual(problems, [])
    assert.isAbove(checked, 60)
  }, 60_000)

  it("breaking services turns the matching alerts on", async () => {
    const base = stack!.gatewayUrl
    const login = await call(base, "POST", "/api/auth/login", undefined, {
      username: "admin",
      password: secrets.adminPassword
    })
    assert.strictEqual(login.status, 200, JSON.stringify(login.body))
    const admin = login.body.access_token as string
    const username = `breaker${run}`.replace(/_/g, "")
    await call(base, "POST", "/api/auth/register", undefined, {
      username,
      name: "Breaker",
      email: `${username}@example.com`,
      password: "correct horse battery"
    })
    const token = (
      await call(base, "POST", "/api/auth/login", undefined, { username, password: "correct horse battery" })
    ).body.access_token as string
    const account = (
      await call(base, "POST", "/api/accounts", token, { account_type: "checking", initial_deposit: "50.00" })
    ).body.id as string
    // accounts' events pile up in its outbox: the broker refuses them since the previous test
    for (let i = 0; i < 3; i++)
      assert.strictEqual(
        (await call(base, "POST", `/api/accounts/${account}/deposits`, token, { amount: "1.00" })).status,
        201
      )

    // notifications' queue disappears and its user may no longer declare it
    rabbitmqctl("set_permissions", "-p", run, run, "^$", ".*", ".*")
    await channel.queueDelete("notifications")

    // accounts freezes for 3 s under a burst of reads: the gateway's answers are slow
    const accounts = stack!.of("accounts")[0]!
    accounts.process.kill("SIGSTOP")
    frozen.add(accounts)
    const slow = Promise.all(
      Array.from({ length: 300 }, () => call(base, "GET", `/api/accounts/${account}`, token).catch(() => undefined))
    )
    await sleep(3_000)
    accounts.process.kill("SIGCONT")
    frozen.delete(accounts)
    const reads = await slow
    assert.isTrue(
      reads.every((r) => r?.status === 200),
      "slow, not failed"
    )

    // users dies: everything that needs it fails with 503, for a few seconds (a counter series
    // born at its first scrape with all the failures in it would show no rate at all)
    await stack!.of("users")[0]!.kill("SIGKILL")
    const failed: Array<Answer> = []
    for (let wave = 0; wave < 10; wave++) {
      failed.push(
        ...(await Promise.all(Array.from({ length: 25 }, () => call(base, "GET", "/api/users?limit=5", admin))))
      )
      await sleep(400)
    }
    assert.isTrue(
      failed.every((r) => r.status === 503),
      `503 while users is down: ${[...new Set(failed.map((r) => r.status))].join(", ")}`
    )

    const expected: ReadonlyArray<Record<string, string>> = [
      { alertname: "MicrobankHighErrorRatio", service: "gateway" },
      { alertname: "MicrobankLatencyBudgetBurnFast", service: "gateway" },
      { alertname: "MicrobankLatencyBudgetBurnSlow", service: "gateway" },
      { alertname: "MicrobankScrapeTargetDown", service: "users" },
      { alertname: "MicrobankDeadLettered", service: "notifications", consumer: "notifications", reason: "poison" },
      { alertname: "MicrobankConsumerNotSubscribed", service: "notifications", consumer: "notifications" },
      { alertname: "MicrobankOutboxStalled", service: "accounts" },
      { alertname: "MicrobankActorRestartStorm", service: "accounts", actor: "outbox-relay" }
    ]
    for (const e of expected)
      assert.isTrue(
        alerts.some((a) => a.alert === e.alertname),
        e.alertname!
      )
    const matches = (a: ActiveAlert, e: Record<string, string>) =>
      Object.entries(e).every(([k, v]) => a.labels[k] === v)
    const waiting = Date.now()
    await eventually(
      async () => {
        const active = await activeAlerts()
        const missing = expected.filter((e) => !active.some((a) => matches(a, e)))
        if (missing.length > 0) throw new Error(`not active yet: ${missing.map((m) => m.alertname).join(", ")}`)
        return true
      },
      120_000,
      "the alerts of the broken services"
    )
    console.log(`all ${expected.length} alerts active ${((Date.now() - waiting) / 1000).toFixed(0)} s after the breaks`)
  }, 180_000)
})
