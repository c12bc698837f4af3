// The checks themselves: given what the client was told and what the databases hold, they must
// find a lost, a duplicated and an unreconciled operation — a checker that cannot fail proves nothing.
import { assert, describe, it } from "@effect/vitest"
import { recovery } from "../src/Chaos.ts"
import * as Verify from "../src/Verify.ts"
import type { Ack, Customer } from "../src/Workload.ts"

const user = "01900000-0000-7000-8000-000000000001"
const [a, b] = ["01900000-0000-7000-8000-00000000000a", "01900000-0000-7000-8000-00000000000b"]
const customer: Customer = { userId: user, username: "u", token: "t", accounts: [a, b] }
const op = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`
const ack = (kind: Ack["kind"], n: number, ids: Array<string>, extra: Partial<Ack> = {}): Ack => ({
  kind,
  opId: op(n),
  key: `k${n}`,
  userId: user,
  ids,
  amountMinor: 0,
  startedAt: 0,
  at: 0,
  attempts: 1,
  ...extra
})

// A consistent world: two opening deposits, one acknowledged deposit of 5.00, one transfer of 1.00.
const world = () => ({
  transactions: [
    ["t1", a, "deposit", "100000", "", ""],
    ["t2", b, "deposit", "100000", "", ""],
    ["t3", a, "deposit", "500", "", `chaos ${op(1)}`],
    ["t4", a, "transfer_out", "100", "x1", `chaos ${op(2)}`],
    ["t5", b, "transfer_in", "100", "x1", `chaos ${op(2)}`]
  ],
  accounts: [
    [a, "100400"],
    [b, "100100"]
  ],
  notifications: [
    [user, "deposit", "3"],
    [user, "transfer_out", "1"],
    [user, "transfer_in", "1"],
    [user, "welcome", "1"]
  ],
  purchases: [["p1", user, "100"]],
  records: [
    ["r1", op(4), "0"],
    ["r2", op(4), "1"]
  ]
})
const acks = [
  ack("deposit", 1, ["t3"], { amountMinor: 500 }),
  ack("transfer", 2, ["x1"]),
  ack("purchase", 3, ["p1"], { priceMinor: 100 }),
  ack("ingest", 4, ["r1", "r2"], { records: 2 })
]

const check = (w: ReturnType<typeof world>) =>
  Verify.verify({
    customers: [customer],
    acks,
    notAcknowledged: [],
    tag: "t",
    query: async (service, sql) =>
      service === "accounts"
        ? sql.includes("from transactions")
          ? w.transactions
          : w.accounts
        : service === "notifications"
          ? w.notifications
          : service === "purchases"
            ? w.purchases
            : w.records
  })

describe("Verify", () => {
  it("passes a consistent world", async () => {
    const v = await check(world())
    assert.deepStrictEqual([v.lost, v.duplicated, v.balancesReconciled, v.problems], [0, 0, true, []])
  })

  it("finds an acknowledged deposit missing from the ledger", async () => {
    const w = world()
    w.transactions.splice(2, 1)
    w.accounts[0] = [a, "99900"]
    w.notifications[0] = [user, "deposit", "2"]
    const v = await check(w)
    assert.strictEqual(v.byKind.deposit.lost, 1)
    assert.isFalse(v.balancesReconciled, "the total no longer matches what was acknowledged")
  })

  it("finds a transfer applied twice, a purchase stored twice and a record stored twice", async () => {
    const w = world()
    w.transactions.push(["t6", a, "transfer_out", "100", "x2", `chaos ${op(2)}`])
    w.transactions.push(["t7", b, "transfer_in", "100", "x2", `chaos ${op(2)}`])
    w.accounts = [
      [a, "100300"],
      [b, "100200"]
    ]
    w.notifications[1] = [user, "transfer_out", "2"]
    w.notifications[2] = [user, "transfer_in", "2"]
    w.purchases.push(["p2", user, "100"])
    w.records.push(["r3", op(4), "1"])
    const v = await check(w)
    assert.deepStrictEqual(
      [v.byKind.transfer.duplicated, v.byKind.purchase.duplicated, v.byKind.ingest.duplicated],
      [1, 1, 1]
    )
    assert.isTrue(v.balancesReconciled, "a transfer moves money, the total stays")
  })

  it("finds a balance that is not the sum of its ledger, and a missing or extra notification", async () => {
    const w = world()
    w.accounts[1] = [b, "100200"]
    w.notifications[0] = [user, "deposit", "4"]
    w.notifications[3] = [user, "welcome", "0"]
    const v = await check(w)
    assert.isFalse(v.balancesReconciled)
    assert.deepStrictEqual([v.byKind.notification.lost, v.byKind.notification.duplicated], [1, 1])
  })

  it("finds an acknowledged purchase or record that was never stored", async () => {
    const w = world()
    w.purchases = []
    w.records.pop()
    const v = await check(w)
    assert.deepStrictEqual([v.byKind.purchase.lost, v.byKind.ingest.lost], [1, 1])
  })
})

describe("recovery", () => {
  const ready = (from: number, to: number) =>
    Array.from({ length: (to - from) / 250 }, (_, i) => ({ at: from + i * 250, ready: 7, instances: 7 }))
  const steady = (from: number, to: number, perSecond: number) =>
    Array.from({ length: ((to - from) / 1000) * perSecond }, (_, i) => from + (i * 1000) / perSecond)

  it("is 0 when throughput never dipped", () => {
    const r = recovery({
      completions: steady(0, 20_000, 10),
      samples: ready(0, 20_000),
      baselineRate: 10,
      faultEnd: 5_000,
      until: 20_000
    })
    assert.strictEqual(r, 0)
  })

  it("is the time until the rate is back at 80% of the baseline over 2 s, with every instance ready", () => {
    const samples = [
      ...ready(0, 5_000),
      ...Array.from({ length: 12 }, (_, i) => ({ at: 5_000 + i * 250, ready: 6, instances: 7 })),
      ...ready(8_000, 20_000)
    ]
    const r = recovery({
      completions: [...steady(0, 5_000, 10), ...steady(9_000, 20_000, 10)],
      samples,
      baselineRate: 10,
      faultEnd: 5_000,
      until: 20_000
    })
    assert.strictEqual(r, 4)
  })

  it("is Infinity when the system never comes back", () => {
    const r = recovery({
      completions: [...steady(0, 5_000, 10), ...steady(5_000, 20_000, 5)],
      samples: ready(0, 20_000),
      baselineRate: 10,
      faultEnd: 5_000,
      until: 20_000
    })
    assert.strictEqual(r, Number.POSITIVE_INFINITY)
  })
})
