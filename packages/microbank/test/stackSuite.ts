// Stack mode: every service its own process (Node, Deno, or a mix), real PostgreSQL, RabbitMQ
// and a Kafka-protocol broker, two replicas of accounts. One suite, run per runtime.
import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Secrets from "../src/Secrets.ts"
import * as Stack from "../src/Stack.ts"
import { Api, eventually } from "./api.ts"
import { PG, query, servicesAvailable, vhost } from "./infra.ts"
import * as KafkaMock from "../src/KafkaMock.ts"
import { coreScenarios, purchaseScenarios, workScenarios } from "./scenarios.ts"

const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)

/**
 * After a failed test: every instance that exited or does not answer `/health/ready` within
 * 2 s, with its exit code and the last lines of its log, so a failure in CI says which service
 * died and why (the logs themselves are deleted with the run).
 */
const unhealthyInstances = async (stack: Stack.Stack): Promise<string> => {
  const reports = await Promise.all(
    stack.instances.map(async (instance) => {
      const name = `${instance.service}#${instance.index + 1} (${instance.runtime}, pid ${instance.process.pid})`
      let state = Stack.exitOf(instance)
      if (state === undefined) {
        try {
          const ready = await fetch(`${instance.url}/health/ready`, { signal: AbortSignal.timeout(2_000) })
          if (!ready.ok) state = `not ready: ${ready.status} ${(await ready.text()).slice(0, 300)}`
        } catch (error) {
          state = `no answer on ${instance.url}: ${String(error)}`
        }
      }
      if (state === undefined) return undefined
      const tail = existsSync(instance.logFile)
        ? readFileSync(instance.logFile, "utf8").trimEnd().split("\n").slice(-30).join("\n")
        : "(no log)"
      return `--- ${name}: ${state}\n${tail}`
    })
  )
  return reports.filter((r) => r !== undefined).join("\n")
}

export const stackSuite = (title: string, runtime: NonNullable<Stack.Options["runtime"]>) =>
  describe.skipIf(!servicesAvailable)(title, () => {
    const run = `mbt_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 6)}`
    let stack: Stack.Stack
    let broker: ReturnType<typeof vhost>
    let dir: string
    let secrets: Secrets.Secrets
    let kafka: KafkaMock.Broker
    beforeAll(async () => {
      if (!KafkaMock.available() && process.env.REQUIRE_REAL_SERVICES === "1") throw new Error("kcat is not installed")
      kafka = await KafkaMock.start()
      dir = mkdtempSync(join(tmpdir(), "microbank-stack-"))
      secrets = Secrets.load(dir).secrets
      broker = vhost(run)
      stack = await Stack.start({
        databaseUrl: PG,
        amqpUrl: broker.url,
        kafkaBrokers: kafka.bootstrap,
        secrets,
        databasePrefix: `${run}_`,
        replicas: { accounts: 2 },
        runtime,
        logDir: join(dir, "logs"),
        env: {
          PASSWORD_SCRYPT_LOG_N: "14",
          AUTH_RATE_LIMIT_PER_MINUTE: "100000",
          RATE_LIMIT_PER_MINUTE: "100000",
          // Many small durable steps, so a job can be killed in the middle of one.
          STATEMENT_PAGE_SIZE: "5"
        }
      })
    }, 120_000)
    afterEach(async (context) => {
      if (context.task.result?.state !== "fail" || stack === undefined) return
      const report = await unhealthyInstances(stack)
      if (report !== "") console.error(`after "${context.task.name}" failed:\n${report}`)
    }, 30_000)
    afterAll(async () => {
      await stack?.stop()
      await stack?.dropDatabases()
      broker?.remove()
      await kafka?.stop()
      if (process.env.KEEP_STACK_LOGS) console.log(`stack logs kept in ${dir}`)
      else rmSync(dir, { recursive: true, force: true })
    }, 60_000)

    coreScenarios(() => ({ gateway: stack.gatewayUrl, adminPassword: secrets.adminPassword }))
    workScenarios(() => ({ gateway: stack.gatewayUrl, adminPassword: secrets.adminPassword }))
    purchaseScenarios(() => ({ gateway: stack.gatewayUrl, adminPassword: secrets.adminPassword }))

    it("purchases go through Kafka and the consumer group exports its lag", async () => {
      const metrics = await (await fetch(`${stack.of("purchases")[0]!.url}/metrics`)).text()
      assert.match(metrics, /troupe_actor_up\{actor="kafka[^"]*"[^}]*\} 1/, "the Kafka connection actor is up")
      assert.match(metrics, /troupe_kafka_consumer_lag\{[^}]*group="purchases"[^}]*\} \d+/)
    })

    it("50 concurrent transfers across the same few accounts keep the total and never go negative", async () => {
      const { api } = await new Api(stack.gatewayUrl).customer("frank")
      const accounts = await Promise.all(
        ["100.00", "50.00", "10.00"].map(
          async (initial) =>
            (await api.post("/api/accounts", { account_type: "checking", initial_deposit: initial })).body
        )
      )
      const ids = accounts.map((a: any) => a.id as string)
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const from = ids[i % 3]!
          const to = ids[(i + 1 + (i % 2)) % 3]!
          return api.post("/api/transfers", { from_account_id: from, to_account_id: to, amount: `${(i % 7) + 1}.25` })
        })
      )
      const statuses = results.map((r) => r.status)
      assert.isTrue(
        statuses.every((s) => s === 201 || s === 422),
        `only completed or insufficient funds: ${statuses.join(",")}`
      )
      assert.isAbove(statuses.filter((s) => s === 201).length, 10)
      const balances = await Promise.all(
        ids.map(async (id) => (await api.get(`/api/accounts/${id}`)).body.balance_minor as number)
      )
      assert.strictEqual(sum(balances), 16_000, "money is neither created nor destroyed")
      assert.isTrue(balances.every((b) => b >= 0))
      // Every balance equals its ledger.
      for (const id of ids) {
        const [[ledger]] = query(
          stack.databaseUrl("accounts"),
          `select coalesce(sum(case when type in ('deposit','transfer_in') then amount_minor else -amount_minor end), 0) from transactions where account_id = '${id}'`
        )
        assert.strictEqual(Number(ledger), balances[ids.indexOf(id)])
      }
      // Both replicas of accounts served traffic.
      const served = await Promise.all(
        stack.of("accounts").map(async (i) => {
          const text = await (await fetch(`${i.url}/metrics`)).text()
          return sum(
            [...text.matchAll(/^troupe_http_requests_total\{route="\/transfers"[^}]*\} (\d+)/gm)].map((m) =>
              Number(m[1])
            )
          )
        })
      )
      assert.isTrue(
        served.every((n) => n > 0),
        `transfers per replica: ${served.join(", ")}`
      )
    })

    it("SIGKILL of notifications and accounts mid-traffic loses no acknowledged transaction and duplicates no notification", async () => {
      const { api, user } = await new Api(stack.gatewayUrl).customer("grace")
      const a = (await api.post("/api/accounts", { account_type: "checking", initial_deposit: "1000.00" })).body
        .id as string
      const b = (await api.post("/api/accounts", { account_type: "savings", initial_deposit: "1000.00" })).body
        .id as string
      const acknowledged: Array<string> = []
      // A client that retries with the same Idempotency-Key until it gets an answer, as clients should.
      const operation = async (i: number) => {
        const key = `op-${i}-${Math.random()}`
        for (let attempt = 0; attempt < 40; attempt++) {
          const r =
            i % 3 === 0
              ? await api
                  .post(
                    "/api/transfers",
                    { from_account_id: i % 2 ? a : b, to_account_id: i % 2 ? b : a, amount: "1.00" },
                    { "idempotency-key": key }
                  )
                  .catch(() => undefined)
              : await api
                  .post(`/api/accounts/${i % 2 ? a : b}/deposits`, { amount: "2.00" }, { "idempotency-key": key })
                  .catch(() => undefined)
          if (r && r.status === 201) {
            acknowledged.push(r.body.transfer_id ?? r.body.id)
            return
          }
          if (r && r.status < 500 && r.status !== 429)
            throw new Error(`unexpected ${r.status}: ${JSON.stringify(r.body)}`)
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
        throw new Error(`operation ${i} never succeeded`)
      }
      const traffic = (async () => {
        for (let i = 0; i < 120; i += 6) await Promise.all(Array.from({ length: 6 }, (_, k) => operation(i + k)))
      })()
      await new Promise((r) => setTimeout(r, 800))
      await stack.of("notifications")[0]!.kill("SIGKILL")
      await new Promise((r) => setTimeout(r, 500))
      await stack.of("accounts")[0]!.kill("SIGKILL")
      await new Promise((r) => setTimeout(r, 500))
      await stack.of("notifications")[0]!.restart()
      await stack.of("accounts")[0]!.restart()
      await traffic
      assert.strictEqual(acknowledged.length, 120)
      const db = stack.databaseUrl("accounts")
      // Every acknowledged operation is in the ledger exactly once.
      const rows = query(
        db,
        `select coalesce(transfer_id, id)::text, count(*) from transactions where account_id in ('${a}', '${b}') and description is null group by 1`
      )
      const counts = new Map(rows.map(([id, n]) => [id!, Number(n)]))
      for (const id of acknowledged)
        assert.include([1, 2], counts.get(id), `operation ${id} applied once (a transfer has two sides)`)
      assert.strictEqual(counts.size, 120, "nothing applied that was not acknowledged")
      const [[total]] = query(db, `select sum(balance_minor) from accounts where id in ('${a}', '${b}')`)
      assert.strictEqual(Number(total), 200_000 + 80 * 200, "balances: 2 × 1000.00 + 80 deposits of 2.00")
      // Every transaction produced exactly one notification, eventually.
      const [[transactions]] = query(db, `select count(*) from transactions where account_id in ('${a}', '${b}')`)
      await eventually(
        async () => {
          const r = await api.get(`/api/notifications?user_id=${user.id}&limit=200`)
          const kinds = r.body.filter((n: any) => n.kind !== "welcome")
          return kinds.length >= Number(transactions) ? kinds : undefined
        },
        30_000,
        "all notifications"
      )
      const [[stored, distinct]] = query(
        stack.databaseUrl("notifications"),
        `select count(*), count(distinct source_message_id) from notifications where user_id = '${user.id}' and kind <> 'welcome'`
      )
      assert.strictEqual(Number(stored), Number(transactions))
      assert.strictEqual(Number(distinct), Number(stored))
    }, 180_000)

    it("a job interrupted by SIGKILL resumes after restart and finishes once", async () => {
      const { api } = await new Api(stack.gatewayUrl).customer("nina")
      const a = (await api.post("/api/accounts", { account_type: "checking", initial_deposit: "500.00" })).body.id
      const b = (await api.post("/api/accounts", { account_type: "savings" })).body.id
      for (let i = 0; i < 150; i += 10) {
        await Promise.all(
          Array.from({ length: 10 }, () =>
            api.post("/api/transfers", { from_account_id: a, to_account_id: b, amount: "1.00" })
          )
        )
      }
      const job = (
        await api.post("/api/jobs", {
          job_name: "long statement",
          kind: "account_statement",
          params: { account_id: a }
        })
      ).body
      // 151 transactions, 5 per step: about 31 steps. Kill the process once a few have run.
      await eventually(
        async () => {
          const j = (await api.get(`/api/jobs/${job.id}`)).body
          return j.progress.completed >= 3 ? j : undefined
        },
        30_000,
        "the job to make progress"
      )
      const jobs = stack.of("jobs")[0]!
      await jobs.kill("SIGKILL")
      const interrupted = query(
        stack.databaseUrl("jobs"),
        `select status, progress_completed from jobs where id = '${job.id}'`
      )[0]!
      assert.strictEqual(interrupted[0], "running", "killed in the middle")
      await jobs.restart()
      const done = await eventually(
        async () => {
          const j = (await api.get(`/api/jobs/${job.id}`)).body
          return j.status === "succeeded" || j.status === "failed" ? j : undefined
        },
        60_000,
        "the job to finish after restart"
      )
      assert.strictEqual(done.status, "succeeded", JSON.stringify(done))
      const csv = (await api.get(`/api/jobs/${job.id}/result`)).body as string
      const lines = csv.trim().split("\r\n").slice(1)
      assert.strictEqual(lines.length, 151, "every transaction once, none twice")
      assert.strictEqual(new Set(lines).size, 151)
      const [[results]] = query(
        stack.databaseUrl("jobs"),
        `select count(*) from job_results where job_id = '${job.id}'`
      )
      assert.strictEqual(Number(results), 1)
    }, 180_000)

    it("ingested records survive a killed worker and a database outage", async () => {
      const { api } = await new Api(stack.gatewayUrl).customer("omar")
      const tag = `outage${Date.now().toString(36)}`
      const ingest = stack.of("ingest")[0]!
      const db = stack.databaseUrl("ingest")
      const name = new URL(db).pathname.slice(1)
      // The worker's database goes away: it stops accepting connections and drops the open ones.
      query(PG, `alter database "${name}" allow_connections false`)
      query(PG, `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}'`)
      const accepted = await api.post("/api/v1/ingest/batch", {
        records: Array.from({ length: 300 }, (_, i) => ({ type: tag, source: "outage", data: { i } }))
      })
      assert.strictEqual(accepted.status, 202, "accepted while the database is down: the broker holds them")
      await new Promise((r) => setTimeout(r, 1500))
      // ... and the worker process dies too.
      await ingest.kill("SIGKILL")
      query(PG, `alter database "${name}" allow_connections true`)
      await ingest.restart()
      await eventually(
        async () => {
          const [[n]] = query(db, `select count(*) from records where type = '${tag}'`)
          return Number(n) === 300 ? true : undefined
        },
        60_000,
        "all 300 records stored"
      )
      const [[distinct]] = query(db, `select count(distinct data->>'i') from records where type = '${tag}'`)
      assert.strictEqual(Number(distinct), 300)
    }, 180_000)
  })
