// Token attacks on every protected route, the BOLA matrix on every id-bearing input, admin-only
// routes, and login brute force — all enumerated from the OpenAPI document.
import { assert, beforeAll, describe, it } from "@effect/vitest"
import { randomUUID } from "node:crypto"
import { type Client, eventually } from "../src/Microbank.ts"
import * as OpenApiModel from "../src/OpenApiModel.ts"
import * as Tokens from "../src/Tokens.ts"
import { type Customer, customer, type World } from "./world.ts"

/** What the gateway may say about a refused token: short reasons, never which key or value failed. */
const allowedReasons = new Set([
  "missing bearer token",
  "malformed token",
  "unsupported token header (only HS256 with a kid)",
  "unknown signing key",
  "bad signature",
  "malformed claims",
  "token expired",
  "token not valid yet",
  "wrong issuer",
  "wrong audience"
])

/** A request to `operation` with well-formed params and body, so only the token decides. */
const wellFormed = (operation: OpenApiModel.Operation) => {
  const path = OpenApiModel.fillPath(
    operation.path,
    Object.fromEntries(operation.parameters.filter((p) => p.in === "path").map((p) => [p.name, randomUUID()]))
  )
  return { path, body: operation.body === undefined ? undefined : {} }
}

const call = (
  world: World,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>
): Promise<{ status: number; contentType: string | null; text: string; headers: Headers }> =>
  fetch(`${world.microbank.url}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  }).then(async (r) => ({
    status: r.status,
    contentType: r.headers.get("content-type"),
    text: await r.text(),
    headers: r.headers
  }))

/** Every id-bearing input of the public API, how to fill it with the victim's id, and what must happen. */
interface Slot {
  readonly operation: string
  /** `path:id`, `query:user_id`, `body:account_id`, ... */
  readonly input: string
}

export const accessAttacks = (world: () => World) =>
  describe("token and access attacks", () => {
    let a: Customer
    let b: Customer
    let document: OpenApiModel.Document
    beforeAll(async () => {
      document = world().document
      a = await customer(world(), "attacker")
      b = await customer(world(), "victim")
    })

    it("every protected route refuses every forged, expired or malformed token with a 401 problem that leaks nothing", async () => {
      const protectedOps = document.operations.filter((o) => o.secured)
      assert.isAtLeast(protectedOps.length, 28)
      assert.deepStrictEqual(
        document.operations.filter((o) => !o.secured).map((o) => o.id),
        ["auth.login", "auth.register"],
        "only login and registration are public"
      )
      const keys = { kid: world().microbank.jwtKid, key: world().microbank.jwtKey }
      const tokens = Tokens.forge(keys, { id: a.user.id, username: a.user.username, role: "customer" })
      // The forger is honest: its valid token is accepted.
      const control = await call(world(), "GET", "/api/me", undefined, { authorization: `Bearer ${tokens.valid}` })
      assert.strictEqual(control.status, 200, control.text)
      const schemes: Record<string, (token: string) => Record<string, string>> = {
        bearer: (t) => (t === "" ? {} : { authorization: `Bearer ${t}` })
      }
      const failures: Array<string> = []
      let checked = 0
      for (const operation of protectedOps) {
        const { path, body } = wellFormed(operation)
        const attempts: Array<[string, Record<string, string>]> = [
          ...Object.entries(tokens)
            .filter(([name]) => name !== "valid")
            .map(([name, token]) => [name, schemes.bearer!(token)] as [string, Record<string, string>]),
          ["empty bearer", { authorization: "Bearer " }],
          [
            "basic auth",
            { authorization: `Basic ${Buffer.from(`admin:${world().microbank.adminPassword}`).toString("base64")}` }
          ],
          ["token in a cookie", { cookie: `token=${tokens.valid}` }],
          ["token in the query string only", {}],
          ["a real token of a user then blocked scheme", { authorization: `Token ${tokens.valid}` }]
        ]
        for (const [name, headers] of attempts) {
          const target = name === "token in the query string only" ? `${path}?access_token=${tokens.valid}` : path
          const r = await call(world(), operation.method, target, body, headers)
          checked++
          const where = `${operation.id} with ${name}`
          if (r.status !== 401) {
            failures.push(`${where}: ${r.status} ${r.text.slice(0, 200)}`)
            continue
          }
          const problem = OpenApiModel.checkResponse(document, operation, r)
          if (problem) failures.push(`${where}: ${problem}`)
          const parsed = JSON.parse(r.text) as { detail?: string; type?: string }
          if (parsed.type !== "https://microbank.dev/problems/unauthorized")
            failures.push(`${where}: type ${parsed.type}`)
          if (!allowedReasons.has(parsed.detail ?? ""))
            failures.push(`${where}: detail says ${JSON.stringify(parsed.detail)}`)
          for (const secret of [keys.key, tokens.valid, world().microbank.adminPassword])
            if (r.text.includes(secret)) failures.push(`${where}: the body contains a secret`)
          if (/\bat \S+ \(|\.ts:\d+|Error:/.test(r.text)) failures.push(`${where}: the body looks like a stack trace`)
        }
      }
      assert.isAbove(checked, 28 * 40)
      assert.deepStrictEqual(
        failures.slice(0, 20),
        [],
        `${failures.length} of ${checked} attempts were not a clean 401`
      )
    })

    it("BOLA: a customer using another customer's ids on every id-bearing input gets 403/404 and changes nothing", async () => {
      const victimAccount = b.accounts[0]!.id
      const victimEmpty = b.accounts[1]!.id
      const mine = a.accounts[0]!.id
      const balances = async (c: Customer) =>
        JSON.stringify(
          ((await c.client.get("/api/accounts")).body as Array<any>).map((x) => [x.id, x.status, x.balance_minor])
        )
      const victimBefore = {
        accounts: await balances(b),
        transactions: (await b.client.get(`/api/accounts/${victimAccount}/transactions`)).text,
        purchases: (await b.client.get(`/api/v1/purchases/${b.user.id}`)).body.length as number
      }
      // Every id-bearing input of the document, found by name; each must have a case below.
      const idName = /(^|_)id$|^userid$|^username$/
      const slots: Array<Slot> = []
      const walk = (schema: unknown, path: string, operation: string) => {
        const s = schema as Record<string, any> | undefined
        if (s === undefined || typeof s !== "object") return
        if (s.$ref) return walk(document.definitions[String(s.$ref).split("/").pop()!], path, operation)
        for (const member of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) walk(member, path, operation)
        if (s.items) walk(s.items, `${path}[]`, operation)
        for (const [name, sub] of Object.entries((s.properties ?? {}) as Record<string, unknown>)) {
          const field = path === "" ? name : `${path}.${name}`
          if (idName.test(name)) slots.push({ operation, input: `body:${field}` })
          walk(sub, field, operation)
        }
      }
      for (const o of document.operations) {
        for (const p of o.parameters)
          if (idName.test(p.name) && p.in !== "header") slots.push({ operation: o.id, input: `${p.in}:${p.name}` })
        walk(o.body, "", o.id)
      }
      const unique = [...new Set(slots.map((s) => `${s.operation} ${s.input}`))]

      type Attack = () => Promise<{ status: number; text: string }>
      const A: Client = a.client
      const statementOfVictim = { job_name: "x", kind: "account_statement", params: { account_id: victimAccount } }
      const cases: Record<string, { attack: Attack; expect: ReadonlyArray<number>; note?: string }> = {
        "users.get path:id": { attack: () => A.get(`/api/users/${b.user.id}`), expect: [404] },
        "accounts.get path:id": { attack: () => A.get(`/api/accounts/${victimAccount}`), expect: [404] },
        "accounts.close path:id": { attack: () => A.request("DELETE", `/api/accounts/${victimEmpty}`), expect: [404] },
        "accounts.deposit path:id": {
          attack: () => A.post(`/api/accounts/${victimAccount}/deposits`, { amount: "1.00" }),
          expect: [404]
        },
        "accounts.withdraw path:id": {
          attack: () => A.post(`/api/accounts/${victimAccount}/withdrawals`, { amount: "1.00" }),
          expect: [404]
        },
        "accounts.transactions path:id": {
          attack: () => A.get(`/api/accounts/${victimAccount}/transactions`),
          expect: [404]
        },
        "accounts.create body:user_id": {
          attack: () => A.post("/api/accounts", { account_type: "checking", user_id: b.user.id }),
          expect: [403]
        },
        "accounts.list query:user_id": { attack: () => A.get(`/api/accounts?user_id=${b.user.id}`), expect: [403] },
        "accounts.transfer body:from_account_id": {
          attack: () =>
            A.post("/api/transfers", { from_account_id: victimAccount, to_account_id: mine, amount: "5.00" }),
          expect: [404]
        },
        "accounts.transfer body:to_account_id": {
          // Paying into someone else's account is what a transfer is for; it must not reveal their balance.
          attack: async () => {
            const r = await A.post("/api/transfers", {
              from_account_id: mine,
              to_account_id: victimAccount,
              amount: "0.01"
            })
            const hidden = r.status === 201 && r.body.credit.balance_after === null
            return { status: hidden ? 201 : r.status === 201 ? 299 : r.status, text: r.text }
          },
          expect: [201],
          note: "allowed (a payment), but the answer must not show the victim's balance"
        },
        "accounts.transaction body:account_id": {
          attack: () => A.post("/api/transactions", { account_id: victimAccount, type: "withdrawal", amount: "1.00" }),
          expect: [404]
        },
        "notifications.list query:user_id": {
          attack: () => A.get(`/api/notifications?user_id=${b.user.id}`),
          expect: [403]
        },
        "jobs.get path:id": { attack: () => A.get(`/api/jobs/${b.job.id}`), expect: [404] },
        "jobs.result path:id": { attack: () => A.get(`/api/jobs/${b.job.id}/result`), expect: [404] },
        "jobs.getPipeline path:id": { attack: () => A.get(`/api/pipelines/${b.pipeline.id}`), expect: [404] },
        "jobs.create body:params.account_id": {
          // Accepted, then the job fails: it reads the account as its owner, and the account is not theirs.
          attack: async () => {
            const r = await A.post("/api/jobs", statementOfVictim)
            if (r.status !== 202) return r
            const job = await eventually(
              async () => {
                const j = (await A.get(`/api/jobs/${r.body.id}`)).body
                return j.status === "failed" || j.status === "succeeded" ? j : undefined
              },
              30_000,
              "the job to end"
            )
            const result = await A.get(`/api/jobs/${r.body.id}/result`)
            return { status: job.status === "failed" && result.status === 404 ? 404 : 200, text: JSON.stringify(job) }
          },
          expect: [404],
          note: "the job fails and has no result"
        },
        "jobs.createPipeline body:steps[].params.account_id": {
          attack: async () => {
            const r = await A.post("/api/pipelines", { pipeline_name: "p", steps: [statementOfVictim] })
            if (r.status !== 202) return r
            const pipeline = await eventually(
              async () => {
                const p = (await A.get(`/api/pipelines/${r.body.id}`)).body
                return p.status === "failed" || p.status === "succeeded" ? p : undefined
              },
              30_000,
              "the pipeline to end"
            )
            const result = await A.get(`/api/jobs/${pipeline.steps[0].id}/result`)
            return {
              status: pipeline.status === "failed" && result.status === 404 ? 404 : 200,
              text: JSON.stringify(pipeline)
            }
          },
          expect: [404],
          note: "the pipeline fails and its step has no result"
        },
        "purchases.buy body:userid": {
          attack: () => A.post("/api/v1/buy", { username: a.user.username, userid: b.user.id, price: "1.00" }),
          expect: [403]
        },
        "purchases.buy body:username": {
          attack: () => A.post("/api/v1/buy", { username: b.user.username, userid: a.user.id, price: "1.00" }),
          expect: [403]
        },
        "purchases.list path:userid": { attack: () => A.get(`/api/v1/purchases/${b.user.id}`), expect: [403] },
        "purchases.getAllUserBuys path:userid": {
          attack: () => A.get(`/api/v1/getAllUserBuys/${b.user.id}`),
          expect: [403]
        },
        "auth.login body:username": {
          attack: () => A.as(undefined).post("/api/auth/login", { username: b.username, password: a.password }),
          expect: [401],
          note: "another user's name with my password"
        },
        "auth.register body:username": {
          attack: () =>
            A.as(undefined).post("/api/auth/register", {
              username: b.username,
              name: "Impostor",
              email: `x${Date.now()}@example.com`,
              password: "a long enough password"
            }),
          expect: [409]
        },
        "users.create body:username": {
          attack: () =>
            A.post("/api/users", {
              username: `x${Date.now()}`,
              name: "x",
              email: "x@example.com",
              password: "long enough pw",
              role: "admin"
            }),
          expect: [403],
          note: "admin-only"
        }
      }
      const missing = unique.filter((slot) => !(slot in cases))
      assert.deepStrictEqual(missing, [], "every id-bearing input of the API has a BOLA case")
      const failures: Array<string> = []
      for (const [slot, { attack, expect, note }] of Object.entries(cases)) {
        const r = await attack()
        if (!expect.includes(r.status))
          failures.push(`${slot}${note ? ` (${note})` : ""}: ${r.status} ${r.text.slice(0, 200)}`)
      }
      assert.deepStrictEqual(failures, [])
      // The victim's money, history and purchases are as they were (apart from the 0.01 paid in).
      const after = JSON.parse(await balances(b)) as Array<[string, string, number]>
      const before = JSON.parse(victimBefore.accounts) as Array<[string, string, number]>
      assert.deepStrictEqual(
        after.map(([id, status, minor]) => [id, status, id === victimAccount ? minor - 1 : minor]),
        before,
        "only the 0.01 payment reached the victim"
      )
      assert.strictEqual((await b.client.get(`/api/v1/purchases/${b.user.id}`)).body.length, victimBefore.purchases)
      const txs = (await b.client.get(`/api/accounts/${victimAccount}/transactions`)).body.items as Array<any>
      assert.deepStrictEqual(
        txs.filter((t) => t.type !== "transfer_in").map((t) => t.id),
        (JSON.parse(victimBefore.transactions).items as Array<any>).map((t) => t.id)
      )
    })

    it("admin-only routes refuse customers with 403; a customer's user list holds only themselves", async () => {
      const A = a.client
      assert.strictEqual((await A.get("/api/v1/analytics/summary")).status, 403)
      assert.strictEqual(
        (
          await A.post("/api/users", {
            username: `c${Date.now()}`,
            name: "C",
            email: "c@example.com",
            password: "long enough pw"
          })
        ).status,
        403
      )
      assert.strictEqual(
        (await A.post("/api/jobs", { job_name: "snap", kind: "analytics_snapshot", params: {} })).status,
        403
      )
      assert.strictEqual(
        (await A.post("/api/pipelines", { pipeline_name: "p", steps: [{ kind: "analytics_snapshot", params: {} }] }))
          .status,
        403
      )
      const users = (await A.get("/api/users?limit=100")).body as Array<any>
      assert.deepStrictEqual(
        users.map((u) => u.id),
        [a.user.id]
      )
      // Registration cannot make an admin: the role is not part of the public registration.
      const r = await A.as(undefined).post("/api/auth/register", {
        username: `r${Date.now().toString(36)}`,
        name: "R",
        email: `r${Date.now()}@example.com`,
        password: "long enough pw",
        role: "admin"
      })
      assert.oneOf(r.status, [201, 422])
      if (r.status === 201) assert.strictEqual(r.body.role, "customer")
    })

    it("login brute force on one username is limited (429 with Retry-After), and the real password does not get through meanwhile", async () => {
      const victim = await customer(world(), "brute")
      const anonymous = world().admin.as(undefined)
      const statuses: Array<number> = []
      let limited: { status: number; headers: Headers; body: any } | undefined
      for (let i = 0; i < 15; i++) {
        const r = await anonymous.post("/api/auth/login", { username: victim.username, password: `guess-${i}` })
        statuses.push(r.status)
        if (r.status === 429) limited = r
      }
      // 10 attempts a minute per username (LOGIN_RATE_LIMIT_PER_MINUTE); the victim's own login used one.
      assert.deepStrictEqual(statuses.slice(0, 9), Array(9).fill(401), "the first attempts are answered")
      assert.isTrue(
        statuses.slice(9).every((s) => s === 429),
        statuses.join(",")
      )
      assert.isDefined(limited)
      assert.match(limited!.headers.get("retry-after") ?? "", /^\d+$/, "Retry-After in seconds")
      assert.isAbove(limited!.body.retry_after_seconds, 0)
      // Even the right password is refused while the username is locked, so guessing cannot continue.
      const right = await anonymous.post("/api/auth/login", { username: victim.username, password: victim.password })
      assert.strictEqual(right.status, 429)
      // The limit is per username: another user logs in fine.
      assert.strictEqual(
        (await anonymous.post("/api/auth/login", { username: a.username, password: a.password })).status,
        200
      )
      // Usernames differing only in case share the limit.
      const upper = await anonymous.post("/api/auth/login", { username: victim.username.toUpperCase(), password: "x" })
      assert.strictEqual(upper.status, 429)
    })
  })
