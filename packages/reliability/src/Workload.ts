/**
 * A steady mix of Microbank traffic through the gateway — deposits, transfers, purchases and
 * ingested records — from clients that behave the way a careful client of a payment system
 * must: every operation carries an `Idempotency-Key` and an operation id of its own, and an
 * operation that got no answer (connection refused or reset, timeout, 5xx, 429) is retried
 * with the same key and the same body until it is answered. Every answer the system gave
 * (2xx with ids) is recorded: that is what the system promised, and what the checks judge.
 */
import { randomUUID } from "node:crypto"

export type OpKind = "deposit" | "transfer" | "purchase" | "ingest"
export const opKinds: ReadonlyArray<OpKind> = ["deposit", "transfer", "purchase", "ingest"]

export interface Customer {
  readonly userId: string
  readonly username: string
  readonly token: string
  readonly accounts: ReadonlyArray<string>
}

/** An operation the system acknowledged. */
export interface Ack {
  readonly kind: OpKind
  /** The client's own id for the operation (also in the body where the API keeps it). */
  readonly opId: string
  readonly key: string
  readonly userId: string
  /** What the system answered with: the transaction, transfer, purchase or record ids. */
  readonly ids: ReadonlyArray<string>
  /** Money added to the system (deposits); transfers move money, purchases and records none. */
  readonly amountMinor: number
  /** Purchases: the price, unique per customer, which marks the operation in the database. */
  readonly priceMinor?: number
  /** Ingest: records sent. */
  readonly records?: number
  readonly startedAt: number
  readonly at: number
  readonly attempts: number
}

export interface Stats {
  readonly started: number
  readonly acknowledged: number
  /** Attempts without an answer (network error, timeout) or with a 5xx/429, all retried. */
  readonly retries: number
  /** Answers with an unexpected 4xx: a client error the system should not have given. */
  readonly unexpected: ReadonlyArray<string>
  /** Operations still without an answer when the run ended. */
  readonly unanswered: number
  /** Operations not acknowledged (rejected or unanswered): they may or may not have been applied. */
  readonly notAcknowledged: ReadonlyArray<NotAcknowledged>
}

export interface NotAcknowledged {
  readonly opId: string
  readonly kind: OpKind
  readonly userId: string
  readonly priceMinor?: number
  readonly outcome: string
}

export interface Options {
  readonly gateway: string
  /** Labels this run's data (ingest record type, user names). */
  readonly tag: string
  readonly customers?: number
  /**
   * Clients per operation kind, each doing one operation after the other. Separate clients per
   * kind: a stuck dependency (Kafka for purchases) stalls its own kind, not the others.
   */
  readonly clients?: Partial<Record<OpKind, number>>
  /** Per-attempt timeout; a careful client gives up on an attempt, never on the operation. */
  readonly attemptTimeoutMs?: number
  /** Pause between the operations of one client: the offered load stays moderate and steady. Default 100 ms. */
  readonly thinkMs?: number
}

export const defaultClients: Record<OpKind, number> = { deposit: 1, transfer: 2, purchase: 1, ingest: 1 }

export interface Workload {
  readonly customers: ReadonlyArray<Customer>
  readonly acks: ReadonlyArray<Ack>
  /** Completion times of acknowledged operations (ms since epoch), in order, per kind. */
  readonly completions: Record<OpKind, ReadonlyArray<number>>
  readonly stats: () => Stats
  /** Stops starting operations; waits up to `graceMs` for the ones in flight (still retrying) to be answered. */
  readonly stop: (graceMs: number) => Promise<Stats>
  /** A burst of extra operations of one kind, answered before it resolves (to catch a consumer mid-batch). */
  readonly burst: (kind: OpKind, n: number) => Promise<void>
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

interface Answer {
  readonly status: number
  readonly body: any
}

const call = async (
  base: string,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
  timeoutMs: number
): Promise<Answer | undefined> => {
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs)
    })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = JSON.parse(text)
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed }
  } catch {
    return undefined // refused, reset, timed out: no answer
  }
}

const retryable = (a: Answer | undefined) => a === undefined || a.status >= 500 || a.status === 429 || a.status === 408

const money = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, "0")}`

const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(Math.random() * xs.length)]!

/**
 * Sends one request until it is answered, with the same headers and body every time. Resolves
 * with the answer and the number of attempts, or undefined when `giveUp()` says so.
 */
const untilAnswered = async (
  send: () => Promise<Answer | undefined>,
  giveUp: () => boolean,
  onRetry: () => void
): Promise<{ readonly answer: Answer; readonly attempts: number } | undefined> => {
  for (let attempt = 1; ; attempt++) {
    const answer = await send()
    if (!retryable(answer)) return { answer: answer!, attempts: attempt }
    onRetry()
    if (giveUp()) return undefined
    await sleep(Math.min(1_000, 100 * 2 ** Math.min(attempt, 4)) * (0.5 + Math.random() / 2))
  }
}

/** Registers the run's customers (each with two accounts of 1000.00) and starts the mix. */
export const start = async (options: Options): Promise<Workload> => {
  const base = options.gateway
  const attemptTimeout = options.attemptTimeoutMs ?? 10_000
  const setupDeadline = Date.now() + 120_000
  let retries = 0
  const unexpected: Array<string> = []
  const answered = async (method: string, path: string, body: unknown, headers: Record<string, string>) => {
    const result = await untilAnswered(
      () => call(base, method, path, body, headers, attemptTimeout),
      () => Date.now() > setupDeadline,
      () => retries++
    )
    if (!result) throw new Error(`set-up: ${method} ${path} never answered`)
    return result.answer
  }

  const customers: Array<Customer> = []
  await Promise.all(
    Array.from({ length: options.customers ?? 4 }, async (_, i) => {
      const username = `${options.tag}c${i}`.replace(/[^a-z0-9]/gi, "").slice(0, 30)
      const password = "correct horse battery"
      const registered = await answered(
        "POST",
        "/api/auth/register",
        { username, name: `Chaos Customer ${i}`, email: `${username}@example.com`, password },
        {}
      )
      // a retried registration may find itself already done
      if (registered.status !== 201 && registered.status !== 409)
        throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`)
      const login = await answered("POST", "/api/auth/login", { username, password }, {})
      if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`)
      const token = login.body.access_token as string
      // the user id is the token's subject
      const userId = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()).sub as string
      const auth = { authorization: `Bearer ${token}` }
      const accounts: Array<string> = []
      for (const type of ["checking", "savings"]) {
        const created = await answered(
          "POST",
          "/api/accounts",
          { account_type: type, initial_deposit: "1000.00" },
          { ...auth, "idempotency-key": randomUUID() }
        )
        if (created.status !== 201) throw new Error(`open account: ${created.status} ${JSON.stringify(created.body)}`)
        accounts.push(created.body.id)
      }
      customers.push({ userId, username, token, accounts })
    })
  )

  const acks: Array<Ack> = []
  const completions: Record<OpKind, Array<number>> = { deposit: [], transfer: [], purchase: [], ingest: [] }
  let started = 0
  let gaveUp = 0
  const notAcknowledged: Array<NotAcknowledged> = []
  let stopping = false
  let hardStop = false
  const prices = new Map<string, number>()

  const operation = async (kind: OpKind) => {
    const customer = pick(customers)
    const opId = randomUUID()
    const key = randomUUID()
    const headers = { authorization: `Bearer ${customer.token}`, "idempotency-key": key }
    let path: string
    let body: unknown
    let amountMinor = 0
    let priceMinor: number | undefined
    let records: number | undefined
    switch (kind) {
      case "deposit": {
        amountMinor = 100 + Math.floor(Math.random() * 900)
        path = `/api/accounts/${pick(customer.accounts)}/deposits`
        body = { amount: money(amountMinor), description: `chaos ${opId}` }
        break
      }
      case "transfer": {
        const [from, to] = Math.random() < 0.5 ? customer.accounts : [...customer.accounts].reverse()
        path = "/api/transfers"
        body = {
          from_account_id: from,
          to_account_id: to,
          amount: money(1 + Math.floor(Math.random() * 500)),
          description: `chaos ${opId}`
        }
        break
      }
      case "purchase": {
        // a price no other purchase of this customer has: it marks the operation in the database
        priceMinor = 100 + (prices.get(customer.userId) ?? 0)
        prices.set(customer.userId, priceMinor - 99)
        path = "/api/v1/buy"
        body = { username: customer.username, userid: customer.userId, price: money(priceMinor) }
        break
      }
      case "ingest": {
        records = 1 + Math.floor(Math.random() * 3)
        path = "/api/v1/ingest"
        body = Array.from({ length: records }, (_, i) => ({
          type: options.tag,
          source: "chaos",
          data: { op: opId, i }
        }))
        break
      }
    }
    const startedAt = Date.now()
    started++
    const result = await untilAnswered(
      () => call(base, "POST", path, body, headers, attemptTimeout),
      () => hardStop,
      () => retries++
    )
    if (!result) {
      gaveUp++
      return
    }
    const { answer, attempts } = result
    if (answer.status >= 400) {
      unexpected.push(`${kind} ${path}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 200)}`)
      return
    }
    const ids: Array<string> =
      kind === "deposit"
        ? [answer.body.id]
        : kind === "transfer"
          ? [answer.body.transfer_id ?? answer.body.id]
          : kind === "purchase"
            ? [answer.body.data.id]
            : answer.body.ids
    const at = Date.now()
    acks.push({
      kind,
      opId,
      key,
      userId: customer.userId,
      ids,
      amountMinor,
      ...(priceMinor === undefined ? {} : { priceMinor }),
      ...(records === undefined ? {} : { records }),
      startedAt,
      at,
      attempts
    })
    completions[kind].push(at)
  }

  const thinkMs = options.thinkMs ?? 100
  const worker = async (kind: OpKind) => {
    while (!stopping) {
      await operation(kind)
      await sleep(thinkMs * (0.5 + Math.random()))
    }
  }
  const clients = { ...defaultClients, ...options.clients }
  const workers = opKinds.flatMap((kind) => Array.from({ length: clients[kind] }, () => worker(kind)))
  const bursts: Array<Promise<unknown>> = []

  const stats = (): Stats => ({
    started,
    acknowledged: acks.length,
    retries,
    unexpected,
    unanswered: gaveUp,
    notAcknowledged
  })
  return {
    customers,
    acks,
    completions,
    stats,
    burst: async (kind, n) => {
      const all = Promise.all(Array.from({ length: n }, () => operation(kind)))
      bursts.push(all)
      await all
    },
    stop: async (graceMs) => {
      stopping = true
      const done = Promise.all([...workers, ...bursts])
      const timer = setTimeout(() => (hardStop = true), graceMs)
      await done
      clearTimeout(timer)
      return stats()
    }
  }
}
