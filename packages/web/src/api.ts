/**
 * The Microbank API as the browser sees it: relative `/api` URLs on the gateway that served the
 * page, a bearer token, and RFC 9457 problems for every failure. The types mirror
 * `packages/contracts/src/Gateway.ts` (the web bundle does not import Effect schemas).
 */

export type Role = "customer" | "admin"
export type AccountType = "checking" | "savings"
export type TransactionType = "deposit" | "withdrawal" | "transfer_in" | "transfer_out"

export interface User {
  readonly id: string
  readonly username: string
  readonly name: string
  readonly email: string
  readonly phone: string | null
  readonly role: Role
  readonly created_at: string
}

export interface Account {
  readonly id: string
  readonly user_id: string
  readonly account_type: AccountType
  readonly status: "open" | "closed"
  /** Decimal string, e.g. "1500.00". */
  readonly balance: string
  readonly balance_minor: number
  readonly currency: string
  readonly created_at: string
}

export interface Transaction {
  readonly id: string
  readonly account_id: string
  readonly type: TransactionType
  readonly amount: string
  readonly amount_minor: number
  readonly balance_after: string
  readonly counterparty_account_id: string | null
  readonly transfer_id: string | null
  readonly description: string | null
  readonly created_at: string
}

export interface Transfer {
  readonly transfer_id: string
  readonly from_account_id: string
  readonly to_account_id: string
  readonly amount: string
  readonly debit: Transaction
  readonly credit: Transaction
}

export interface TransactionPage {
  readonly items: ReadonlyArray<Transaction>
  readonly next_before: string | null
}

export interface Notification {
  readonly id: string
  readonly user_id: string
  readonly kind: string
  readonly message: string
  readonly created_at: string
}

/** A purchase as stored by the purchases consumer. `price` is a JSON number; `price_minor` is exact. */
export interface Purchase {
  readonly id: string
  readonly userid: string
  readonly username: string
  readonly price: number
  readonly price_minor: number
  /** Seconds since the epoch (seed 003's format). */
  readonly timestamp: number
  readonly stored_at: string
}

/** `POST /api/v1/buy`'s answer: accepted, on its way through Kafka to the consumer. */
export interface PurchaseRecorded {
  readonly status: "success"
  readonly message: string
  readonly data: {
    readonly id: string
    readonly username: string
    readonly userid: string
    readonly price: number
    readonly timestamp: number
  }
}

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

export interface NewRecord {
  readonly type: string
  readonly source: string
  readonly data: Json
}

export interface IngestRecord extends NewRecord {
  readonly id: string
  readonly received_at: string
  readonly stored_at: string
}

export interface IngestAccepted {
  readonly status: "accepted"
  readonly accepted: number
  readonly ids: ReadonlyArray<string>
}

export interface Count {
  readonly name: string
  readonly count: number
}

export interface IngestStats {
  readonly total: number
  readonly last_hour: number
  readonly per_minute_last_hour: number
  readonly by_type: ReadonlyArray<Count>
  readonly by_source: ReadonlyArray<Count>
}

export interface AnalyticsSummary {
  readonly users: number
  readonly accounts: number
  readonly transactions: number
  /** Decimal string. */
  readonly total_balance: string
  readonly notifications: number
  readonly purchases: number | null
  readonly ingested_records: number
  readonly jobs: number
  readonly generated_at: string
}

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "skipped"

/** What a job does (`packages/contracts/src/Jobs.ts`, `JobSpec`). */
export type JobSpec =
  | {
      readonly kind: "account_statement"
      readonly params: { readonly account_id: string; readonly from?: string; readonly to?: string }
    }
  | { readonly kind: "ingest_summary"; readonly params: { readonly type?: string } }
  | { readonly kind: "analytics_snapshot"; readonly params: Record<string, never> }
export type JobKind = JobSpec["kind"]

export interface Job {
  readonly id: string
  readonly job_name: string
  readonly kind: string
  readonly params: Json
  readonly owner_id: string
  readonly status: JobStatus
  readonly progress: { readonly completed: number; readonly total: number | null; readonly message: string | null }
  readonly error: string | null
  readonly result_url: string | null
  readonly pipeline_id: string | null
  readonly created_at: string
  readonly started_at: string | null
  readonly finished_at: string | null
}

export interface Pipeline {
  readonly id: string
  readonly pipeline_name: string
  readonly owner_id: string
  readonly status: JobStatus
  readonly error: string | null
  readonly steps: ReadonlyArray<Job>
  readonly created_at: string
  readonly finished_at: string | null
}

export interface Token {
  readonly access_token: string
  readonly token_type: "bearer"
  readonly expires_in: number
}

/** An RFC 9457 problem, with Microbank's extension members. */
export interface Problem {
  readonly type: string
  readonly status: number
  readonly title: string
  readonly detail?: string
  readonly errors?: ReadonlyArray<{ readonly path: ReadonlyArray<string | number>; readonly message: string }>
  readonly [extension: string]: unknown
}

export class ApiError extends Error {
  readonly problem: Problem
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title)
    this.problem = problem
  }
}

const problems = "https://microbank.dev/problems/"
/** True when the problem is of Microbank's type `name` (e.g. "insufficient-funds"). */
export const isProblem = (error: unknown, name: string): error is ApiError =>
  error instanceof ApiError && error.problem.type === problems + name

export const networkProblem: Problem = {
  type: "about:network",
  status: 0,
  title: "Cannot reach Microbank",
  detail: "Check your connection and try again."
}

let token: string | undefined
let onUnauthorized: ((problem: Problem) => void) | undefined

/** The bearer token sent with every request (kept by the session, in sessionStorage). */
export const setToken = (value: string | undefined): void => {
  token = value
}

/** Called when a request that carried a token answers 401: the session is over. */
export const setUnauthorizedHandler = (handler: ((problem: Problem) => void) | undefined): void => {
  onUnauthorized = handler
}

export interface RequestOptions {
  readonly body?: unknown
  readonly idempotencyKey?: string | undefined
  readonly signal?: AbortSignal | undefined
  /** What the caller wants back (JSON unless said otherwise). */
  readonly accept?: string
}

/** Sends a request with the token; answers the response when it is a success, throws `ApiError` otherwise. */
const send = async (method: string, path: string, options: RequestOptions): Promise<Response> => {
  const sentToken = token
  const headers: Record<string, string> = { accept: options.accept ?? "application/json" }
  if (options.body !== undefined) headers["content-type"] = "application/json"
  if (sentToken !== undefined) headers.authorization = `Bearer ${sentToken}`
  if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey
  let response: Response
  try {
    response = await fetch(path, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: options.signal ?? null
    })
  } catch (error) {
    if (options.signal?.aborted) throw error
    throw new ApiError(networkProblem)
  }
  if (response.ok) return response
  const text = await response.text().catch(() => "")
  let body: unknown
  try {
    body = text === "" ? undefined : JSON.parse(text)
  } catch {
    // not JSON (a proxy's error page): described by its status below
  }
  const problem: Problem =
    typeof body === "object" && body !== null && "status" in body && "title" in body
      ? (body as Problem)
      : { type: "about:blank", status: response.status, title: response.statusText || `HTTP ${response.status}` }
  if (response.status === 401 && sentToken !== undefined && sentToken === token) onUnauthorized?.(problem)
  throw new ApiError(problem)
}

export const request = async <T>(method: string, path: string, options: RequestOptions = {}): Promise<T> => {
  const response = await send(method, path, options)
  const text = await response.text().catch(() => "")
  try {
    return (text === "" ? undefined : JSON.parse(text)) as T
  } catch {
    return undefined as T
  }
}

/** A file the API answers (a job's CSV), fetched with the bearer token a plain link could not carry. */
export interface Download {
  readonly blob: Blob
  /** From `Content-Disposition`, when the server names the file. */
  readonly filename: string | undefined
}

export const download = async (path: string, accept: string, signal?: AbortSignal): Promise<Download> => {
  const response = await send("GET", path, { accept, signal })
  let blob: Blob
  try {
    blob = await response.blob()
  } catch (error) {
    if (signal?.aborted) throw error
    throw new ApiError(networkProblem)
  }
  const disposition = response.headers.get("content-disposition") ?? ""
  const named = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(disposition)
  let filename: string | undefined
  try {
    filename = named === null ? undefined : decodeURIComponent(named[1] ?? named[2] ?? "") || undefined
  } catch {
    filename = undefined
  }
  return { blob, filename }
}

const query = (params: Record<string, string | number | undefined>): string => {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value))
  const text = search.toString()
  return text === "" ? "" : `?${text}`
}

const id = (value: string) => encodeURIComponent(value)

export interface Registration {
  readonly username: string
  readonly name: string
  readonly email: string
  readonly phone?: string | null
  readonly password: string
}

export interface Movement {
  readonly amount: string
  readonly description?: string | null
}

/** Every endpoint the UI calls. */
export const api = {
  login: (username: string, password: string) =>
    request<Token>("POST", "/api/auth/login", { body: { username, password } }),
  register: (registration: Registration) => request<User>("POST", "/api/auth/register", { body: registration }),
  me: (signal?: AbortSignal) => request<User>("GET", "/api/me", { signal }),

  users: (page: { limit: number; offset: number }, signal?: AbortSignal) =>
    request<ReadonlyArray<User>>("GET", `/api/users${query(page)}`, { signal }),
  user: (userId: string, signal?: AbortSignal) => request<User>("GET", `/api/users/${id(userId)}`, { signal }),
  createUser: (user: Registration & { readonly role: Role }) => request<User>("POST", "/api/users", { body: user }),

  accounts: (userId: string, signal?: AbortSignal) =>
    request<ReadonlyArray<Account>>("GET", `/api/accounts${query({ user_id: userId })}`, { signal }),
  account: (accountId: string, signal?: AbortSignal) =>
    request<Account>("GET", `/api/accounts/${id(accountId)}`, { signal }),
  openAccount: (
    body: { account_type: AccountType; user_id?: string; initial_deposit?: string },
    idempotencyKey: string
  ) => request<Account>("POST", "/api/accounts", { body, idempotencyKey }),
  closeAccount: (accountId: string) => request<Account>("DELETE", `/api/accounts/${id(accountId)}`),
  deposit: (accountId: string, body: Movement, idempotencyKey: string) =>
    request<Transaction>("POST", `/api/accounts/${id(accountId)}/deposits`, { body, idempotencyKey }),
  withdraw: (accountId: string, body: Movement, idempotencyKey: string) =>
    request<Transaction>("POST", `/api/accounts/${id(accountId)}/withdrawals`, { body, idempotencyKey }),
  transfer: (body: Movement & { from_account_id: string; to_account_id: string }, idempotencyKey: string) =>
    request<Transfer>("POST", "/api/transfers", { body, idempotencyKey }),
  transactions: (accountId: string, page: { limit: number; before?: string | undefined }, signal?: AbortSignal) =>
    request<TransactionPage>("GET", `/api/accounts/${id(accountId)}/transactions${query(page)}`, { signal }),

  notifications: (params: { user_id: string; limit?: number; after?: string | undefined }, signal?: AbortSignal) =>
    request<ReadonlyArray<Notification>>("GET", `/api/notifications${query(params)}`, { signal }),

  buy: (body: { username: string; userid: string; price: string }) =>
    request<PurchaseRecorded>("POST", "/api/v1/buy", { body }),
  purchases: (userId: string, signal?: AbortSignal) =>
    request<ReadonlyArray<Purchase>>("GET", `/api/v1/purchases/${id(userId)}`, { signal }),

  ingest: (record: NewRecord) => request<IngestAccepted>("POST", "/api/v1/ingest", { body: record }),
  ingestStats: (signal?: AbortSignal) => request<IngestStats>("GET", "/api/v1/ingest/stats", { signal }),
  ingestRecent: (params: { limit?: number; type?: string | undefined }, signal?: AbortSignal) =>
    request<ReadonlyArray<IngestRecord>>("GET", `/api/v1/ingest/recent${query(params)}`, { signal }),
  analyticsSummary: (signal?: AbortSignal) => request<AnalyticsSummary>("GET", "/api/v1/analytics/summary", { signal }),

  jobs: (signal?: AbortSignal) => request<ReadonlyArray<Job>>("GET", "/api/jobs", { signal }),
  job: (jobId: string, signal?: AbortSignal) => request<Job>("GET", `/api/jobs/${id(jobId)}`, { signal }),
  startJob: (body: { job_name: string } & JobSpec) => request<Job>("POST", "/api/jobs", { body }),
  jobResult: (jobId: string) => download(`/api/jobs/${id(jobId)}/result`, "text/csv"),
  startPipeline: (body: { pipeline_name: string; steps: ReadonlyArray<{ job_name?: string } & JobSpec> }) =>
    request<Pipeline>("POST", "/api/pipelines", { body }),
  pipeline: (pipelineId: string, signal?: AbortSignal) =>
    request<Pipeline>("GET", `/api/pipelines/${id(pipelineId)}`, { signal })
}

/**
 * A random UUID for `Idempotency-Key`: one per confirmed intent, reused when the same intent is
 * retried. `crypto.randomUUID` exists only in secure contexts (not on http://192.168.x.y), so
 * it is built from `getRandomValues`, which exists everywhere.
 */
export const newIdempotencyKey = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
