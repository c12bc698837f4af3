/**
 * The checks, made from the services' databases after the system settled:
 *
 * - every acknowledged operation is applied exactly once (lost = 0, duplicated = 0): a deposit is
 *   one ledger row with the acknowledged id, a transfer two rows (out, in) of the acknowledged
 *   transfer id, a purchase one row with the acknowledged id, an ingest call one record per
 *   acknowledged id. A logical operation applied twice under different ids (a retry the system
 *   did not recognise) counts as duplicated too: the client marks each operation (description,
 *   price, record data) so the database can tell;
 * - balances reconcile: every account's balance is the sum of its ledger, and the customers'
 *   total is their opening deposits plus the acknowledged deposits (transfers conserve money);
 * - every ledger row (each emitted `transaction.completed`) led to exactly one notification of
 *   its kind for its owner, and every customer got one welcome notification.
 */
import type { Ack, Customer, NotAcknowledged, OpKind } from "./Workload.ts"

/** Runs SQL in one service database; rows as arrays of strings. */
export type Query = (service: string, sql: string) => Promise<Array<Array<string>>>

export interface Tally {
  readonly acknowledged: number
  readonly lost: number
  readonly duplicated: number
}

export interface Verdict {
  readonly byKind: Record<OpKind | "notification", Tally>
  readonly operations: number
  readonly lost: number
  readonly duplicated: number
  readonly balancesReconciled: boolean
  /** Operations not acknowledged to the client that the system applied anyway (allowed, reported). */
  readonly appliedWithoutAnswer: number
  readonly problems: ReadonlyArray<string>
}

const list = (ids: ReadonlyArray<string>) => ids.map((id) => `'${id.replace(/'/g, "")}'`).join(",")

const chaosOp = (description: string | undefined) => /^chaos ([0-9a-f-]{36})$/.exec(description ?? "")?.[1]

export interface Input {
  readonly customers: ReadonlyArray<Customer>
  readonly acks: ReadonlyArray<Ack>
  readonly notAcknowledged: ReadonlyArray<NotAcknowledged>
  /** The ingest record type of this run. */
  readonly tag: string
  readonly query: Query
}

/** Everything acknowledged is visible downstream (stored by the consumers, notified): the system settled. */
export const settled = async (input: Input): Promise<boolean> => {
  const v = await verify(input)
  return v.lost === 0
}

export const verify = async (input: Input): Promise<Verdict> => {
  const { customers, acks, query } = input
  const problems: Array<string> = []
  const users = customers.map((c) => c.userId)
  const accounts = customers.flatMap((c) => c.accounts)
  const ownerOf = new Map(customers.flatMap((c) => c.accounts.map((a) => [a, c.userId] as const)))
  const tally = (): { acknowledged: number; lost: number; duplicated: number } => ({
    acknowledged: 0,
    lost: 0,
    duplicated: 0
  })
  const byKind = {
    deposit: tally(),
    transfer: tally(),
    purchase: tally(),
    ingest: tally(),
    notification: tally()
  }
  const unacked = new Map(input.notAcknowledged.map((o) => [o.opId, o]))
  const appliedWithoutAnswer = new Set<string>()

  // --- accounts: the ledger ------------------------------------------------------------------
  const ledger = (
    await query(
      "accounts",
      `select id, account_id, type, amount_minor, coalesce(transfer_id::text, ''), coalesce(description, '')
       from transactions where account_id in (${list(accounts)})`
    )
  ).map(([id, account, type, amount, transfer, description]) => ({
    id: id!,
    account: account!,
    type: type!,
    amount: Number(amount),
    transfer: transfer!,
    op: chaosOp(description)
  }))
  const rowsByOp = new Map<string, Array<(typeof ledger)[number]>>()
  for (const row of ledger) if (row.op) rowsByOp.set(row.op, [...(rowsByOp.get(row.op) ?? []), row])
  const ackedOps = new Set(acks.map((a) => a.opId))
  for (const ack of acks) {
    if (ack.kind !== "deposit" && ack.kind !== "transfer") continue
    const t = byKind[ack.kind]
    t.acknowledged++
    const rows = rowsByOp.get(ack.opId) ?? []
    const perOp = ack.kind === "deposit" ? 1 : 2
    const matching = rows.filter((r) => (ack.kind === "deposit" ? r.id : r.transfer) === ack.ids[0])
    if (matching.length === 0) {
      t.lost++
      problems.push(`${ack.kind} ${ack.ids[0]} (op ${ack.opId}) acknowledged but not in the ledger`)
    }
    if (rows.length > perOp) {
      t.duplicated++
      problems.push(`${ack.kind} op ${ack.opId} applied ${rows.length / perOp} times`)
    } else if (matching.length > 0 && matching.length !== perOp) {
      problems.push(`transfer ${ack.ids[0]} has ${matching.length} ledger rows instead of 2`)
    }
  }
  for (const [op, rows] of rowsByOp) {
    if (ackedOps.has(op)) continue
    if (unacked.has(op)) appliedWithoutAnswer.add(op)
    else problems.push(`ledger rows for op ${op} that the client never started: ${rows.map((r) => r.id).join(", ")}`)
    if (unacked.get(op)?.outcome.startsWith("rejected"))
      problems.push(`op ${op} was rejected (${unacked.get(op)!.outcome}) but applied`)
  }

  // --- balances reconcile with the ledger, money is conserved ---------------------------------
  const balances = new Map(
    (await query("accounts", `select id, balance_minor from accounts where id in (${list(accounts)})`)).map(
      ([id, b]) => [id!, Number(b)] as const
    )
  )
  const sign = (type: string) => (type === "deposit" || type === "transfer_in" ? 1 : -1)
  let balancesReconciled = true
  for (const account of accounts) {
    const sum = ledger.filter((r) => r.account === account).reduce((s, r) => s + sign(r.type) * r.amount, 0)
    if (balances.get(account) !== sum) {
      balancesReconciled = false
      problems.push(`account ${account}: balance ${balances.get(account)} but its ledger sums to ${sum}`)
    }
  }
  const openings = accounts.length * 100_000
  const deposited = acks.filter((a) => a.kind === "deposit").reduce((s, a) => s + a.amountMinor, 0)
  const depositedUnanswered = ledger
    .filter((r) => r.type === "deposit" && r.op && appliedWithoutAnswer.has(r.op))
    .reduce((s, r) => s + r.amount, 0)
  const total = [...balances.values()].reduce((a, b) => a + b, 0)
  if (total !== openings + deposited + depositedUnanswered) {
    balancesReconciled = false
    problems.push(
      `total ${total} != openings ${openings} + acknowledged deposits ${deposited} + unanswered applied deposits ${depositedUnanswered}`
    )
  }

  // --- notifications: one per ledger row, one welcome per customer ----------------------------
  const expected = new Map<string, number>()
  const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n)
  for (const row of ledger) bump(expected, `${ownerOf.get(row.account)}/${row.type}`)
  for (const user of users) bump(expected, `${user}/welcome`)
  const got = new Map<string, number>()
  for (const [user, kind, n] of await query(
    "notifications",
    `select user_id, kind, count(*) from notifications where user_id in (${list(users)}) group by 1, 2`
  ))
    bump(got, `${user}/${kind}`, Number(n))
  for (const key of new Set([...expected.keys(), ...got.keys()])) {
    const e = expected.get(key) ?? 0
    const g = got.get(key) ?? 0
    byKind.notification.acknowledged += e
    if (g < e) {
      byKind.notification.lost += e - g
      problems.push(`notifications ${key}: ${g} of ${e}`)
    }
    if (g > e) {
      byKind.notification.duplicated += g - e
      problems.push(`notifications ${key}: ${g} for ${e} events`)
    }
  }

  // --- purchases ---------------------------------------------------------------------------
  const purchases = (
    await query("purchases", `select id, userid, price_minor from purchases where userid in (${list(users)})`)
  ).map(([id, user, price]) => ({ id: id!, user: user!, price: Number(price) }))
  const purchaseIds = new Set(purchases.map((p) => p.id))
  const byPrice = new Map<string, number>()
  for (const p of purchases) bump(byPrice, `${p.user}/${p.price}`)
  const ackedPrices = new Set<string>()
  for (const ack of acks) {
    if (ack.kind !== "purchase") continue
    byKind.purchase.acknowledged++
    ackedPrices.add(`${ack.userId}/${ack.priceMinor}`)
    if (!purchaseIds.has(ack.ids[0]!)) {
      byKind.purchase.lost++
      problems.push(`purchase ${ack.ids[0]} acknowledged but not stored`)
    }
    const n = byPrice.get(`${ack.userId}/${ack.priceMinor}`) ?? 0
    if (n > 1) {
      byKind.purchase.duplicated++
      problems.push(`purchase op ${ack.opId} stored ${n} times`)
    }
  }
  const unackedPrices = new Map<string, NotAcknowledged>(
    input.notAcknowledged.filter((o) => o.kind === "purchase").map((o) => [`${o.userId}/${o.priceMinor}`, o] as const)
  )
  for (const key of byPrice.keys()) {
    if (ackedPrices.has(key)) continue
    const op = unackedPrices.get(key)
    if (op) appliedWithoutAnswer.add(op.opId)
    else problems.push(`purchase ${key} stored but never started by the client`)
  }

  // --- ingest ------------------------------------------------------------------------------
  const records = (
    await query(
      "ingest",
      `select id, data->>'op', data->>'i' from records where type = '${input.tag.replace(/'/g, "")}'`
    )
  ).map(([id, op, i]) => ({ id: id!, op: op!, i: Number(i) }))
  const recordIds = new Set(records.map((r) => r.id))
  const perRecord = new Map<string, number>()
  for (const r of records) bump(perRecord, `${r.op}/${r.i}`)
  for (const ack of acks) {
    if (ack.kind !== "ingest") continue
    byKind.ingest.acknowledged++
    const missing = ack.ids.filter((id) => !recordIds.has(id))
    if (missing.length > 0) {
      byKind.ingest.lost++
      problems.push(`ingest op ${ack.opId}: ${missing.length} of ${ack.ids.length} acknowledged records not stored`)
    }
    if (Array.from({ length: ack.records ?? 0 }, (_, i) => perRecord.get(`${ack.opId}/${i}`) ?? 0).some((n) => n > 1)) {
      byKind.ingest.duplicated++
      problems.push(`ingest op ${ack.opId} stored more than once`)
    }
  }
  for (const r of records) {
    if (ackedOps.has(r.op)) continue
    if (unacked.has(r.op)) appliedWithoutAnswer.add(r.op)
    else problems.push(`record ${r.id} of op ${r.op} that the client never started`)
  }

  const kinds = Object.values(byKind)
  const sum = (f: (t: Tally) => number) => kinds.reduce((s, t) => s + f(t), 0)
  return {
    byKind,
    operations: acks.length,
    lost: sum((t) => t.lost),
    duplicated: sum((t) => t.duplicated),
    balancesReconciled,
    appliedWithoutAnswer: appliedWithoutAnswer.size,
    problems
  }
}
