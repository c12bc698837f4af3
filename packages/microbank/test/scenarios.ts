// The user-visible flows of seeds 002 and 004, and the rules around them, driven through the
// gateway over real HTTP. Registered once, run against every mode.
import { assert, it } from "@effect/vitest"
import { Api, eventually } from "./api.ts"

export interface Context {
  readonly gateway: string
  readonly adminPassword: string
}

export const coreScenarios = (context: () => Context) => {
  const anonymous = () => new Api(context().gateway)
  const admin = () => anonymous().login("admin", context().adminPassword)

  it("seed 002: create user → create account → deposit → notification arrives → balance updated", async () => {
    const root = await admin()
    const user = await root.post("/api/users", {
      username: `alice${Date.now().toString(36)}`,
      name: "Alice Johnson",
      email: `alice.${Date.now().toString(36)}@example.com`,
      password: "alice's long password"
    })
    assert.strictEqual(user.status, 201, JSON.stringify(user.body))
    const account = await root.post("/api/accounts", {
      user_id: user.body.id,
      account_type: "checking",
      initial_deposit: 1000.0
    })
    assert.strictEqual(account.status, 201, JSON.stringify(account.body))
    assert.strictEqual(account.body.balance, "1000.00")
    const tx = await root.post("/api/transactions", { account_id: account.body.id, type: "deposit", amount: 500.0 })
    assert.strictEqual(tx.status, 201, JSON.stringify(tx.body))
    assert.deepInclude(tx.body, {
      account_id: account.body.id,
      type: "deposit",
      amount: "500.00",
      balance_after: "1500.00"
    })
    const notification = await eventually(
      async () => {
        const r = await root.get(`/api/notifications?user_id=${user.body.id}`)
        return r.body.find((n: any) => n.kind === "deposit" && n.message.startsWith("Deposit of $500.00"))
      },
      15_000,
      "the deposit notification"
    )
    assert.strictEqual(notification.message, "Deposit of $500.00 completed. New balance: $1,500.00")
    const after = await root.get(`/api/accounts/${account.body.id}`)
    assert.strictEqual(after.body.balance, "1500.00")
    assert.strictEqual(after.body.balance_minor, 150000)
  })

  it("seed 004: login → create and get user; no token, bad token or wrong password → 401", async () => {
    const root = await admin()
    const created = await root.post("/api/users", {
      username: `john${Date.now().toString(36)}`,
      name: "John Doe",
      email: `john.${Date.now().toString(36)}@example.com`,
      password: "john's long password"
    })
    assert.strictEqual(created.status, 201)
    const fetched = await root.get(`/api/users/${created.body.id}`)
    assert.strictEqual(fetched.status, 200)
    assert.strictEqual(fetched.body.name, "John Doe")
    assert.notProperty(fetched.body, "password")
    assert.notProperty(fetched.body, "password_hash")
    for (const api of [anonymous(), anonymous().as("not-a-jwt"), anonymous().as(`${root.token!.slice(0, -3)}abc`)]) {
      const r = await api.get(`/api/users/${created.body.id}`)
      assert.strictEqual(r.status, 401)
      assert.strictEqual(r.body.type, "https://microbank.dev/problems/unauthorized")
    }
    const wrong = await anonymous().post("/api/auth/login", { username: "admin", password: "wrong password" })
    assert.strictEqual(wrong.status, 401)
    const login = await anonymous().post("/api/auth/login", { username: "admin", password: context().adminPassword })
    assert.deepInclude(login.body, { token_type: "bearer" })
    assert.isAbove(login.body.expires_in, 0)
  })

  it("customers see and change only what is theirs; admins see everyone", async () => {
    const alice = await anonymous().customer("alice")
    const bob = await anonymous().customer("bob")
    const account = await alice.api.post("/api/accounts", { account_type: "savings", initial_deposit: "50.00" })
    assert.strictEqual(account.status, 201)
    const id = account.body.id
    assert.strictEqual((await bob.api.get(`/api/accounts/${id}`)).status, 404)
    assert.strictEqual((await bob.api.post(`/api/accounts/${id}/withdrawals`, { amount: "1.00" })).status, 404)
    assert.strictEqual((await bob.api.get(`/api/accounts/${id}/transactions`)).status, 404)
    assert.strictEqual((await bob.api.get(`/api/users/${alice.user.id}`)).status, 404)
    assert.strictEqual((await bob.api.get(`/api/notifications?user_id=${alice.user.id}`)).status, 403)
    assert.strictEqual((await bob.api.get(`/api/accounts?user_id=${alice.user.id}`)).status, 403)
    assert.strictEqual(
      (await bob.api.post("/api/accounts", { account_type: "checking", user_id: alice.user.id })).status,
      403
    )
    assert.strictEqual(
      (
        await bob.api.post("/api/users", {
          username: "mallory",
          name: "M",
          email: "m@example.com",
          password: "12345678910"
        })
      ).status,
      403
    )
    const bobsList = await bob.api.get("/api/users")
    assert.deepStrictEqual(
      bobsList.body.map((u: any) => u.id),
      [bob.user.id]
    )
    assert.deepStrictEqual((await bob.api.get("/api/accounts")).body, [])
    // Bob may pay into Alice's account from his own.
    const bobAccount = await bob.api.post("/api/accounts", { account_type: "checking", initial_deposit: "20.00" })
    const paid = await bob.api.post("/api/transfers", {
      from_account_id: bobAccount.body.id,
      to_account_id: id,
      amount: "5.00"
    })
    assert.strictEqual(paid.status, 201, JSON.stringify(paid.body))
    assert.strictEqual((await alice.api.get(`/api/accounts/${id}`)).body.balance, "55.00")
    const root = await admin()
    assert.strictEqual((await root.get(`/api/accounts/${id}`)).status, 200)
    assert.isAtLeast((await root.get("/api/users")).body.length, 3)
  })

  it("money rules: overdraft, same-account transfer, closing, closed accounts, idempotency keys", async () => {
    const { api } = await anonymous().customer("carol")
    const a = (await api.post("/api/accounts", { account_type: "checking", initial_deposit: "100.00" })).body
    const b = (await api.post("/api/accounts", { account_type: "savings" })).body
    const overdraft = await api.post(`/api/accounts/${a.id}/withdrawals`, { amount: "100.01" })
    assert.strictEqual(overdraft.status, 422)
    assert.deepInclude(overdraft.body, {
      type: "https://microbank.dev/problems/insufficient-funds",
      balance: "100.00",
      requested: "100.01"
    })
    const same = await api.post("/api/transfers", { from_account_id: a.id, to_account_id: a.id, amount: 1 })
    assert.strictEqual(same.status, 422)
    assert.strictEqual(same.body.detail, "cannot transfer to the same account")
    // Idempotency-Key: a retried deposit is applied once and answered the same way.
    const key = `dep-${Math.random()}`
    const first = await api.post(`/api/accounts/${a.id}/deposits`, { amount: "10.10" }, { "idempotency-key": key })
    const retry = await api.post(`/api/accounts/${a.id}/deposits`, { amount: "10.10" }, { "idempotency-key": key })
    assert.strictEqual(first.status, 201)
    assert.strictEqual(retry.status, 201)
    assert.strictEqual(retry.body.id, first.body.id)
    const reused = await api.post(`/api/accounts/${a.id}/deposits`, { amount: "99.00" }, { "idempotency-key": key })
    assert.strictEqual(reused.status, 422)
    assert.strictEqual(reused.body.type, "https://microbank.dev/problems/idempotency-key-reused")
    assert.strictEqual((await api.get(`/api/accounts/${a.id}`)).body.balance, "110.10")
    // Closing needs a zero balance; a closed account takes no money.
    const early = await api.request("DELETE", `/api/accounts/${a.id}`)
    assert.strictEqual(early.status, 422)
    assert.match(early.body.detail, /110\.10/)
    assert.strictEqual(
      (await api.post("/api/transfers", { from_account_id: a.id, to_account_id: b.id, amount: "110.10" })).status,
      201
    )
    const closed = await api.request("DELETE", `/api/accounts/${a.id}`)
    assert.strictEqual(closed.status, 200)
    assert.strictEqual(closed.body.status, "closed")
    const intoClosed = await api.post(`/api/accounts/${a.id}/deposits`, { amount: 1 })
    assert.strictEqual(intoClosed.status, 409)
    assert.strictEqual(intoClosed.body.type, "https://microbank.dev/problems/account-closed")
    const toClosed = await api.post("/api/transfers", { from_account_id: b.id, to_account_id: a.id, amount: 1 })
    assert.strictEqual(toClosed.status, 409)
    // History, newest first, paged.
    const page1 = await api.get(`/api/accounts/${b.id}/transactions?limit=1`)
    assert.strictEqual(page1.body.items.length, 1)
    assert.strictEqual(page1.body.items[0].type, "transfer_in")
    assert.isNull(page1.body.next_before)
    const history = await api.get(`/api/accounts/${a.id}/transactions?limit=2`)
    assert.deepStrictEqual(
      history.body.items.map((t: any) => t.type),
      ["transfer_out", "deposit"]
    )
    const older = await api.get(`/api/accounts/${a.id}/transactions?limit=2&before=${history.body.next_before}`)
    assert.deepStrictEqual(
      older.body.items.map((t: any) => [t.type, t.amount]),
      [["deposit", "100.00"]]
    )
  })

  it("bad input on every endpoint gets a 4xx problem, never a 5xx, and writes nothing", async () => {
    const { api, user } = await anonymous().customer("dave")
    const account = (await api.post("/api/accounts", { account_type: "checking", initial_deposit: "10.00" })).body
    const root = await admin()
    const before = {
      users: (await root.get("/api/users?limit=100")).body.length,
      accounts: (await api.get("/api/accounts")).body.length,
      balance: (await api.get(`/api/accounts/${account.id}`)).body.balance,
      history: (await api.get(`/api/accounts/${account.id}/transactions`)).body.items.length
    }
    const cases: Array<[string, () => Promise<{ status: number; body: any }>]> = [
      ["login: malformed JSON", () => anonymous().post("/api/auth/login", '{"username":')],
      ["login: wrong types", () => anonymous().post("/api/auth/login", { username: 1, password: [] })],
      [
        "register: bad email, phone, short password",
        () =>
          anonymous().post("/api/auth/register", {
            username: "ok_name",
            name: "X",
            email: "nope",
            phone: "12",
            password: "short"
          })
      ],
      [
        "register: short username, empty name",
        () =>
          anonymous().post("/api/auth/register", {
            username: "x",
            name: "",
            email: "x@example.com",
            password: "12345678"
          })
      ],
      ["users: create with missing fields", () => root.post("/api/users", { username: "zz" })],
      ["users: bad id", () => root.get("/api/users/not-a-uuid")],
      ["users: bad paging", () => root.get("/api/users?limit=0&offset=-1")],
      ["accounts: unknown type", () => api.post("/api/accounts", { account_type: "crypto" })],
      [
        "accounts: negative initial deposit",
        () => api.post("/api/accounts", { account_type: "checking", initial_deposit: -5 })
      ],
      ["accounts: bad id", () => api.get("/api/accounts/123")],
      ["deposit: zero", () => api.post(`/api/accounts/${account.id}/deposits`, { amount: 0 })],
      ["deposit: three decimals", () => api.post(`/api/accounts/${account.id}/deposits`, { amount: "1.005" })],
      ["deposit: float noise", () => api.post(`/api/accounts/${account.id}/deposits`, { amount: 0.1 + 0.2 })],
      ["deposit: too large", () => api.post(`/api/accounts/${account.id}/deposits`, { amount: "1000000.01" })],
      ["deposit: amount as words", () => api.post(`/api/accounts/${account.id}/deposits`, { amount: "ten" })],
      [
        "deposit: not JSON",
        () => api.request("POST", `/api/accounts/${account.id}/deposits`, "amount=5", { "content-type": "text/plain" })
      ],
      [
        "deposit: unknown account",
        () => api.post("/api/accounts/0190a000-0000-7000-8000-000000000000/deposits", { amount: 1 })
      ],
      ["withdraw: negative", () => api.post(`/api/accounts/${account.id}/withdrawals`, { amount: "-1" })],
      [
        "transaction: unknown type",
        () => api.post("/api/transactions", { account_id: account.id, type: "steal", amount: 1 })
      ],
      ["transfer: missing destination", () => api.post("/api/transfers", { from_account_id: account.id, amount: 1 })],
      ["transfer: bad ids", () => api.post("/api/transfers", { from_account_id: "a", to_account_id: "b", amount: 1 })],
      ["history: bad limit", () => api.get(`/api/accounts/${account.id}/transactions?limit=1000`)],
      ["notifications: bad user id", () => api.get("/api/notifications?user_id=xyz")],
      [
        "oversized body",
        () => api.post(`/api/accounts/${account.id}/deposits`, { amount: 1, description: "x".repeat(2_000_000) })
      ],
      [
        "description too long",
        () => api.post(`/api/accounts/${account.id}/deposits`, { amount: 1, description: "x".repeat(141) })
      ],
      [
        "idempotency key too long",
        () => api.post(`/api/accounts/${account.id}/deposits`, { amount: 1 }, { "idempotency-key": "k".repeat(200) })
      ],
      ["unknown route", () => api.get("/api/nothing")]
    ]
    for (const [what, run] of cases) {
      const r = await run()
      assert.isAtLeast(r.status, 400, `${what}: ${r.status} ${JSON.stringify(r.body)}`)
      assert.isBelow(r.status, 500, `${what}: ${r.status} ${JSON.stringify(r.body)}`)
      assert.strictEqual(typeof r.body?.title, "string", `${what}: problem body`)
    }
    const after = {
      users: (await root.get("/api/users?limit=100")).body.length,
      accounts: (await api.get("/api/accounts")).body.length,
      balance: (await api.get(`/api/accounts/${account.id}`)).body.balance,
      history: (await api.get(`/api/accounts/${account.id}/transactions`)).body.items.length
    }
    assert.deepStrictEqual(after, before, "nothing was written")
    assert.ok(user.id)
  })
}

export const bruteForceScenario = (context: () => Context) =>
  it("login brute force on one username is rate limited", async () => {
    const api = new Api(context().gateway)
    const { username } = await api.customer("erin")
    const statuses: Array<number> = []
    for (let i = 0; i < 15; i++)
      statuses.push((await api.post("/api/auth/login", { username, password: `guess ${i}` })).status)
    assert.deepStrictEqual(statuses.slice(0, 9), Array(9).fill(401))
    assert.include(statuses, 429)
    const limited = await api.post("/api/auth/login", { username, password: "correct horse battery" })
    assert.strictEqual(limited.status, 429, "even the right password waits once the limit is hit")
    assert.isAbove(limited.body.retry_after_seconds, 0)
  })

/** Seeds 000, 001 and 004 beyond banking: ingest, save/view, analytics, jobs and pipelines. */
export const workScenarios = (context: () => Context) => {
  const anonymous = () => new Api(context().gateway)
  const admin = () => anonymous().login("admin", context().adminPassword)

  it("ingest: one record, an array, a batch; 202 with ids; stored by the worker; stats and recent", async () => {
    const { api } = await anonymous().customer("ivan")
    const tag = `t${Date.now().toString(36)}`
    const one = await api.post("/api/v1/ingest", { type: tag, source: "sensor-1", data: { temp: 21.5 } })
    assert.strictEqual(one.status, 202, JSON.stringify(one.body))
    assert.strictEqual(one.body.accepted, 1)
    const many = await api.post("/api/v1/ingest", [
      { type: tag, source: "sensor-2", data: [1, 2, 3] },
      { type: tag, source: "sensor-2", data: "text" }
    ])
    assert.strictEqual(many.body.accepted, 2)
    const batch = await api.post("/api/v1/ingest/batch", {
      records: Array.from({ length: 500 }, (_, i) => ({ type: tag, source: "bulk", data: { i } }))
    })
    assert.strictEqual(batch.status, 202)
    assert.strictEqual(batch.body.ids.length, 500)
    const stats = await eventually(
      async () => {
        const s = (await api.get("/api/v1/ingest/stats")).body
        return s.by_type.find((t: any) => t.name === tag)?.count === 503 ? s : undefined
      },
      30_000,
      "503 records stored"
    )
    assert.isAtLeast(stats.last_hour, 503)
    const recent = await api.get(`/api/v1/ingest/recent?limit=3&type=${tag}`)
    assert.strictEqual(recent.body.length, 3)
    assert.deepStrictEqual(recent.body[0].data, { i: 499 })
  })

  it("ingest: a retry with the same Idempotency-Key gets the same ids and is stored once", async () => {
    const { api } = await anonymous().customer("ike")
    const tag = `k${Date.now().toString(36)}`
    const records = [
      { type: tag, source: "retry", data: { n: 1 } },
      { type: tag, source: "retry", data: { n: 2 } }
    ]
    const key = { "idempotency-key": `ingest-${tag}` }
    const first = await api.post("/api/v1/ingest", records, key)
    const retry = await api.post("/api/v1/ingest", records, key)
    assert.strictEqual(first.status, 202, JSON.stringify(first.body))
    assert.deepStrictEqual(retry.body.ids, first.body.ids)
    const batch = await api.post("/api/v1/ingest/batch", { records }, { "idempotency-key": `batch-${tag}` })
    assert.notDeepEqual(batch.body.ids, first.body.ids, "another key is another request")
    // another customer's key never maps onto these records
    const { api: other } = await anonymous().customer("ivy")
    assert.notDeepEqual((await other.post("/api/v1/ingest", records, key)).body.ids, first.body.ids)
    await eventually(
      async () => ((await api.get(`/api/v1/ingest/recent?type=${tag}`)).body.length === 6 ? true : undefined),
      30_000,
      "6 records stored"
    )
    await new Promise((r) => setTimeout(r, 500))
    const stored = (await api.get(`/api/v1/ingest/recent?type=${tag}`)).body
    assert.strictEqual(stored.length, 6, "2 + 2 (batch) + 2 (other customer); the retry added none")
  })

  it("ingest rejects what breaks its limits, and writes nothing", async () => {
    const { api } = await anonymous().customer("judy")
    const tag = `x${Date.now().toString(36)}`
    const record = { type: tag, source: "s", data: 1 }
    const cases = [
      await api.post(
        "/api/v1/ingest",
        Array.from({ length: 101 }, () => record)
      ),
      await api.post("/api/v1/ingest/batch", { records: Array.from({ length: 5001 }, () => record) }),
      await api.post("/api/v1/ingest/batch", { records: [] }),
      await api.post("/api/v1/ingest", { type: "has space", source: "s", data: 1 }),
      await api.post("/api/v1/ingest", { type: tag, source: "s", data: { blob: "x".repeat(17_000) } }),
      await api.post("/api/v1/ingest", { type: tag, source: "s" }),
      await api.post("/api/v1/ingest", "not json")
    ]
    for (const r of cases) assert.oneOf(r.status, [400, 413, 422], JSON.stringify(r.body).slice(0, 300))
    await new Promise((r) => setTimeout(r, 500))
    const recent = await api.get(`/api/v1/ingest/recent?type=${tag}`)
    assert.deepStrictEqual(recent.body, [])
    const badFilter = await api.get("/api/v1/ingest/recent?type=has%20space")
    assert.strictEqual(badFilter.status, 400, JSON.stringify(badFilter.body))
    assert.deepStrictEqual(badFilter.body.errors[0].path, ["query", "type"])
  })

  it("seed 000: /save queues a message, /view shows it escaped, template=space switches the design", async () => {
    const text = `<b>hello</b> & "goodbye" ${Date.now()}`
    const saved = await fetch(`${context().gateway}/save?data=${encodeURIComponent(text)}`)
    assert.strictEqual(saved.status, 202)
    assert.notInclude(await saved.text(), "<b>hello</b>")
    const escaped = "&lt;b&gt;hello&lt;/b&gt; &amp; &quot;goodbye&quot;"
    const page = await eventually(
      async () => {
        const html = await (await fetch(`${context().gateway}/view`)).text()
        return html.includes(escaped) ? html : undefined
      },
      15_000,
      "the message on /view"
    )
    assert.notInclude(page, "<b>hello</b>")
    assert.include(page, "font-family:system-ui")
    const space = await (await fetch(`${context().gateway}/view?template=space`)).text()
    assert.include(space, "radial-gradient")
    assert.include(space, escaped)
    assert.strictEqual((await fetch(`${context().gateway}/save`)).status, 400)
  })

  it("analytics summary: each number from its own service, admins only", async () => {
    const { api } = await anonymous().customer("kate")
    assert.strictEqual((await api.get("/api/v1/analytics/summary")).status, 403)
    const summary = (await (await admin()).get("/api/v1/analytics/summary")).body
    for (const key of ["users", "accounts", "transactions", "notifications", "ingested_records", "jobs"]) {
      assert.isAtLeast(summary[key], 0, key)
    }
    assert.isAtLeast(summary.users, 2)
    assert.match(summary.total_balance, /^\d+\.\d\d$/)
  })

  it("jobs: an account statement runs as a workflow and downloads as CSV; bad jobs are refused or fail with a reason", async () => {
    const { api } = await anonymous().customer("liam")
    const account = (await api.post("/api/accounts", { account_type: "checking", initial_deposit: "20.00" })).body
    await api.post(`/api/accounts/${account.id}/withdrawals`, { amount: "5.25", description: 'coffee, "large"' })
    const job = await api.post("/api/jobs", {
      job_name: "November statement",
      kind: "account_statement",
      params: { account_id: account.id }
    })
    assert.strictEqual(job.status, 202, JSON.stringify(job.body))
    assert.strictEqual(job.body.status, "queued")
    const done = await eventually(
      async () => {
        const j = (await api.get(`/api/jobs/${job.body.id}`)).body
        return j.status === "succeeded" || j.status === "failed" ? j : undefined
      },
      30_000,
      "the job to finish"
    )
    assert.strictEqual(done.status, "succeeded", JSON.stringify(done))
    assert.strictEqual(done.result_url, `/api/jobs/${job.body.id}/result`)
    const csv = await api.get(`/api/jobs/${job.body.id}/result`)
    assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/)
    const lines = (csv.body as string).trim().split("\r\n")
    assert.strictEqual(lines[0], "date,type,amount,balance_after,description")
    assert.strictEqual(lines.length, 3)
    assert.include(lines[1], 'withdrawal,-5.25,14.75,"coffee, ""large"""')
    // Someone else's account: the job runs and fails with a reason, it never leaks the statement.
    const { api: other } = await anonymous().customer("mia")
    const stolen = await other.post("/api/jobs", {
      job_name: "x",
      kind: "account_statement",
      params: { account_id: account.id }
    })
    const failed = await eventually(
      async () => {
        const j = (await other.get(`/api/jobs/${stolen.body.id}`)).body
        return j.status === "failed" ? j : undefined
      },
      30_000,
      "the job to fail"
    )
    assert.strictEqual(failed.error, "the account does not exist or is not yours")
    assert.strictEqual((await other.get(`/api/jobs/${stolen.body.id}/result`)).status, 404)
    assert.strictEqual((await other.get(`/api/jobs/${job.body.id}`)).status, 404, "jobs are private")
    const unknown = await api.post("/api/jobs", { job_name: "x", kind: "mine_bitcoin", params: {} })
    assert.strictEqual(unknown.status, 422)
    const forbidden = await api.post("/api/jobs", { job_name: "x", kind: "analytics_snapshot", params: {} })
    assert.strictEqual(forbidden.status, 403)
    for (const [from, to] of [
      ["2026-13-01", undefined],
      ["2026-02-30", undefined],
      ["2026-11-21", "2026-11-01"]
    ]) {
      const r = await api.post("/api/jobs", {
        job_name: "x",
        kind: "account_statement",
        params: { account_id: account.id, from, to }
      })
      assert.strictEqual(r.status, 422, `${from}..${to}: ${JSON.stringify(r.body)}`)
    }
  })

  it("pipelines run jobs in order; a failed step stops the pipeline with the reason", async () => {
    const root = await admin()
    const ok = await root.post("/api/pipelines", {
      pipeline_name: "nightly",
      steps: [
        { kind: "ingest_summary", params: {} },
        { job_name: "snapshot", kind: "analytics_snapshot", params: {} }
      ]
    })
    assert.strictEqual(ok.status, 202, JSON.stringify(ok.body))
    const succeeded = await eventually(
      async () => {
        const p = (await root.get(`/api/pipelines/${ok.body.id}`)).body
        return p.status === "succeeded" || p.status === "failed" ? p : undefined
      },
      45_000,
      "the pipeline"
    )
    assert.strictEqual(succeeded.status, "succeeded", JSON.stringify(succeeded))
    assert.deepStrictEqual(
      succeeded.steps.map((s: any) => s.status),
      ["succeeded", "succeeded"]
    )
    const snapshot = await root.get(`/api/jobs/${succeeded.steps[1].id}/result`)
    assert.match(snapshot.body, /^metric,value\r\nusers,\d+/)

    const broken = await root.post("/api/pipelines", {
      pipeline_name: "broken",
      steps: [
        { kind: "ingest_summary", params: {} },
        { kind: "account_statement", params: { account_id: "0190a000-0000-7000-8000-00000000dead" } },
        { kind: "analytics_snapshot", params: {} }
      ]
    })
    const failed = await eventually(
      async () => {
        const p = (await root.get(`/api/pipelines/${broken.body.id}`)).body
        return p.status === "failed" ? p : undefined
      },
      45_000,
      "the pipeline to fail"
    )
    assert.strictEqual(failed.error, "step 2 (account_statement) failed: the account does not exist or is not yours")
    assert.deepStrictEqual(
      failed.steps.map((s: any) => s.status),
      ["succeeded", "failed", "skipped"]
    )
  })
}

/** Seed 003: purchases through the broker (Kafka in stack mode), visible to their buyer. */
export const purchaseScenarios = (context: () => Context) => {
  const anonymous = () => new Api(context().gateway)

  it("seed 003: buy → 202 'Purchase recorded' → stored by the consumer group → listed (and via getAllUserBuys)", async () => {
    const { api, user } = await anonymous().customer("pat")
    const bought = await api.post("/api/v1/buy", { username: user.username, userid: user.id, price: 50.0 })
    assert.strictEqual(bought.status, 202, JSON.stringify(bought.body))
    assert.deepInclude(bought.body, { status: "success", message: "Purchase recorded" })
    assert.deepInclude(bought.body.data, { username: user.username, userid: user.id, price: 50 })
    assert.isNumber(bought.body.data.timestamp)
    await api.post("/api/v1/buy", { username: user.username, userid: user.id, price: "12.34" })
    const listed = await eventually(
      async () => {
        const r = await api.get(`/api/v1/purchases/${user.id}`)
        return r.body.length === 2 ? r.body : undefined
      },
      30_000,
      "both purchases stored"
    )
    assert.deepStrictEqual(listed.map((p: any) => p.price).sort(), [12.34, 50])
    const alias = await api.get(`/api/v1/getAllUserBuys/${user.id}`)
    assert.deepStrictEqual(alias.body, listed)
  })

  it("purchases: a retry with the same Idempotency-Key is the same purchase, stored once", async () => {
    const { api, user } = await anonymous().customer("kim")
    const key = { "idempotency-key": `buy-${Date.now()}` }
    const first = await api.post("/api/v1/buy", { username: user.username, userid: user.id, price: 7 }, key)
    const retry = await api.post("/api/v1/buy", { username: user.username, userid: user.id, price: 7 }, key)
    assert.strictEqual(first.status, 202, JSON.stringify(first.body))
    assert.strictEqual(retry.body.data.id, first.body.data.id)
    const other = await api.post("/api/v1/buy", { username: user.username, userid: user.id, price: 8 })
    assert.notStrictEqual(other.body.data.id, first.body.data.id)
    await eventually(
      async () => ((await api.get(`/api/v1/purchases/${user.id}`)).body.length === 2 ? true : undefined),
      30_000,
      "both purchases stored"
    )
    await new Promise((r) => setTimeout(r, 500))
    const stored = (await api.get(`/api/v1/purchases/${user.id}`)).body
    assert.deepStrictEqual(stored.map((p: any) => p.id).sort(), [first.body.data.id, other.body.data.id].sort())
  })

  it("purchases: only as yourself, only your own history, prices validated, nothing written on rejection", async () => {
    const { api, user } = await anonymous().customer("quinn")
    const { user: other } = await anonymous().customer("rosa")
    const asOther = await api.post("/api/v1/buy", { username: other.username, userid: other.id, price: 1 })
    assert.strictEqual(asOther.status, 403)
    assert.strictEqual((await api.get(`/api/v1/purchases/${other.id}`)).status, 403)
    assert.strictEqual((await api.get(`/api/v1/getAllUserBuys/${other.id}`)).status, 403)
    for (const price of [-5, 0, "0.00", 1.005, "1000000.01", "abc", null]) {
      const r = await api.post("/api/v1/buy", { username: user.username, userid: user.id, price })
      assert.strictEqual(r.status, 422, `price ${price}: ${JSON.stringify(r.body)}`)
    }
    await new Promise((r) => setTimeout(r, 500))
    assert.deepStrictEqual((await api.get(`/api/v1/purchases/${user.id}`)).body, [])
    const root = await anonymous().login("admin", context().adminPassword)
    assert.strictEqual((await root.get(`/api/v1/purchases/${user.id}`)).status, 200)
  })
}
