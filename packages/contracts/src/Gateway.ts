/**
 * Microbank's public API: what clients (curl, the web UI) call through the gateway.
 * Everything under `/api` except login and registration needs a bearer JWT. This is the
 * aggregated OpenAPI served at `/docs`.
 */
import { Context, Schema } from "effect"
import {
  HttpApi,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpApiMiddleware,
  HttpApiSchema,
  HttpApiSecurity,
  OpenApi
} from "effect/http-api"
import { Account, AccountId, AccountType, Transaction, Transfer } from "./Accounts.ts"
import * as Ingest from "./Ingest.ts"
import * as Jobs from "./Jobs.ts"
import * as Purchases from "./Purchases.ts"
import { Amount } from "./Money.ts"
import { Notification } from "./Notifications.ts"
import {
  AccountClosed,
  Conflict,
  Forbidden,
  IdempotencyKeyReused,
  InsufficientFunds,
  InvalidCredentials,
  InvalidOperation,
  NotFound,
  PayloadTooLarge,
  RateLimited,
  ServiceUnavailable,
  Unauthorized,
  UnsupportedMediaType,
  ValidationFailed
} from "./Problems.ts"
import { Credentials, Email, Name, NewUser, Page, Password, Phone, Role, User, UserId, Username } from "./Users.ts"

/** The authenticated caller, provided to handlers by the `Authentication` middleware. */
export class CurrentUser extends Context.Service<
  CurrentUser,
  { readonly id: string; readonly username: string; readonly role: typeof Role.Type }
>()("microbank/CurrentUser") {}

/**
 * Bearer JWT authentication (implemented by the gateway). Its errors are also the errors any
 * protected endpoint may answer with: 401, 429 (rate limit) and 503 (a service is down).
 */
export class Authentication extends HttpApiMiddleware.Service<Authentication, { provides: CurrentUser }>()(
  "microbank/Authentication",
  { error: [Unauthorized, RateLimited, ServiceUnavailable], security: { bearer: HttpApiSecurity.bearer } }
) {}

/**
 * What a request body can be refused with before its handler runs: 413 (larger than the
 * service accepts), 415 (not JSON), 422 (JSON that fails the endpoint's schema). The service
 * host answers these; this middleware only documents them on the endpoints that take a body.
 */
export class RequestBody extends HttpApiMiddleware.Service<RequestBody>()("microbank/RequestBody", {
  error: [PayloadTooLarge, UnsupportedMediaType, ValidationFailed]
}) {}

export const Token = Schema.Struct({
  access_token: Schema.String,
  token_type: Schema.Literal("bearer"),
  expires_in: Schema.Int
})

export const Registration = Schema.Struct({
  username: Username,
  name: Name,
  email: Email,
  phone: Schema.optional(Schema.NullOr(Phone)),
  password: Password
})

const IdempotencyKey = {
  "idempotency-key": Schema.optional(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(128)))
}

const Description = Schema.optional(Schema.NullOr(Schema.String.check(Schema.isMaxLength(140))))

export const AuthGroup = HttpApiGroup.make("auth")
  .add(
    HttpApiEndpoint.post("login", "/api/auth/login", {
      payload: Credentials,
      success: Token,
      error: [InvalidCredentials, RateLimited, ServiceUnavailable]
    }).middleware(RequestBody)
  )
  .add(
    HttpApiEndpoint.post("register", "/api/auth/register", {
      payload: Registration,
      success: User.pipe(HttpApiSchema.status(201)),
      error: [Conflict, RateLimited, ServiceUnavailable]
    }).middleware(RequestBody)
  )
  .annotate(OpenApi.Description, "Log in for a bearer token, or register as a customer.")

export const MeGroup = HttpApiGroup.make("me")
  .add(HttpApiEndpoint.get("me", "/api/me", { success: User, error: NotFound }))
  .middleware(Authentication)

export const UsersGroup = HttpApiGroup.make("users")
  .add(
    HttpApiEndpoint.post("create", "/api/users", {
      payload: NewUser,
      success: User.pipe(HttpApiSchema.status(201)),
      error: [Conflict, Forbidden]
    }).middleware(RequestBody)
  )
  .add(HttpApiEndpoint.get("list", "/api/users", { query: Page, success: Schema.Array(User) }))
  .add(HttpApiEndpoint.get("get", "/api/users/:id", { params: { id: UserId }, success: User, error: NotFound }))
  .middleware(Authentication)
  .annotate(OpenApi.Description, "Customers see only themselves; admins see and create everyone.")

const MovementErrors = [NotFound, AccountClosed, InsufficientFunds, IdempotencyKeyReused] as const

/** A transfer as its sender sees it: paying into someone else's account does not show their balance. */
export const PublicTransfer = Schema.Struct({
  ...Transfer.fields,
  credit: Schema.Struct({
    ...Transaction.fields,
    balance_after: Schema.NullOr(Schema.String).annotate({
      description: "the receiving account's new balance; null when that account is not the caller's"
    })
  })
})
const Movement = Schema.Struct({ amount: Amount, description: Description })

export const AccountsGroup = HttpApiGroup.make("accounts")
  .add(
    HttpApiEndpoint.post("create", "/api/accounts", {
      headers: IdempotencyKey,
      payload: Schema.Struct({
        account_type: AccountType,
        user_id: Schema.optional(Schema.String.check(Schema.isUUID())),
        initial_deposit: Schema.optional(Amount)
      }),
      success: Account.pipe(HttpApiSchema.status(201)),
      error: [Forbidden, NotFound, IdempotencyKeyReused, Conflict]
    }).middleware(RequestBody)
  )
  .add(
    HttpApiEndpoint.get("list", "/api/accounts", {
      query: { user_id: Schema.optional(Schema.String.check(Schema.isUUID())) },
      success: Schema.Array(Account),
      error: Forbidden
    })
  )
  .add(
    HttpApiEndpoint.get("get", "/api/accounts/:id", { params: { id: AccountId }, success: Account, error: NotFound })
  )
  .add(
    HttpApiEndpoint.delete("close", "/api/accounts/:id", {
      params: { id: AccountId },
      success: Account,
      error: [NotFound, InvalidOperation]
    })
  )
  .add(
    HttpApiEndpoint.post("deposit", "/api/accounts/:id/deposits", {
      params: { id: AccountId },
      headers: IdempotencyKey,
      payload: Movement,
      success: Transaction.pipe(HttpApiSchema.status(201)),
      error: MovementErrors
    }).middleware(RequestBody)
  )
  .add(
    HttpApiEndpoint.post("withdraw", "/api/accounts/:id/withdrawals", {
      params: { id: AccountId },
      headers: IdempotencyKey,
      payload: Movement,
      success: Transaction.pipe(HttpApiSchema.status(201)),
      error: MovementErrors
    }).middleware(RequestBody)
  )
  .add(
    HttpApiEndpoint.get("transactions", "/api/accounts/:id/transactions", {
      params: { id: AccountId },
      query: {
        limit: Schema.optional(
          Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 100 }))
        ),
        before: Schema.optional(Schema.String.check(Schema.isMaxLength(200)))
      },
      success: Schema.Struct({ items: Schema.Array(Transaction), next_before: Schema.NullOr(Schema.String) }),
      error: NotFound
    })
  )
  .add(
    HttpApiEndpoint.post("transfer", "/api/transfers", {
      headers: IdempotencyKey,
      payload: Schema.Struct({
        from_account_id: AccountId,
        to_account_id: AccountId,
        amount: Amount,
        description: Description
      }),
      success: PublicTransfer.pipe(HttpApiSchema.status(201)),
      error: [...MovementErrors, InvalidOperation]
    }).middleware(RequestBody)
  )
  .add(
    // Seed 002's transaction endpoint: a deposit or a withdrawal by account id.
    HttpApiEndpoint.post("transaction", "/api/transactions", {
      headers: IdempotencyKey,
      payload: Schema.Struct({
        account_id: AccountId,
        type: Schema.Literals(["deposit", "withdrawal"]),
        amount: Amount,
        description: Description
      }),
      success: Transaction.pipe(HttpApiSchema.status(201)),
      error: MovementErrors
    }).middleware(RequestBody)
  )
  .middleware(Authentication)
  .annotate(
    OpenApi.Description,
    "Accounts, deposits, withdrawals and transfers. Amounts are decimal strings or numbers with at most two decimals; answers carry decimal strings and integer minor units."
  )

export const NotificationsGroup = HttpApiGroup.make("notifications")
  .add(
    HttpApiEndpoint.get("list", "/api/notifications", {
      query: {
        user_id: Schema.optional(Schema.String.check(Schema.isUUID())),
        limit: Schema.optional(
          Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 200 }))
        ),
        after: Schema.optional(Schema.String.check(Schema.isMaxLength(64)))
      },
      success: Schema.Array(Notification),
      error: Forbidden
    })
  )
  .middleware(Authentication)

export const IngestGroup = HttpApiGroup.make("ingest")
  .add(
    HttpApiEndpoint.post("ingest", "/api/v1/ingest", {
      headers: IdempotencyKey,
      payload: Schema.Union([
        Ingest.NewRecord,
        Schema.Array(Ingest.NewRecord).check(Schema.isMinLength(1), Schema.isMaxLength(Ingest.maxPerRequest))
      ]),
      success: Ingest.Accepted.pipe(HttpApiSchema.status(202))
    }).middleware(RequestBody)
  )
  .add(
    HttpApiEndpoint.post("batch", "/api/v1/ingest/batch", {
      headers: IdempotencyKey,
      payload: Schema.Struct({
        records: Schema.Array(Ingest.NewRecord).check(Schema.isMinLength(1), Schema.isMaxLength(Ingest.maxPerBatch))
      }),
      success: Ingest.Accepted.pipe(HttpApiSchema.status(202))
    }).middleware(RequestBody)
  )
  .add(HttpApiEndpoint.get("stats", "/api/v1/ingest/stats", { success: Ingest.Stats }))
  .add(
    HttpApiEndpoint.get("recent", "/api/v1/ingest/recent", {
      query: {
        limit: Schema.optional(
          Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 500 }))
        ),
        type: Schema.optional(Ingest.Label)
      },
      success: Schema.Array(Ingest.IngestRecord)
    })
  )
  .add(
    HttpApiEndpoint.get("summary", "/api/v1/analytics/summary", {
      success: Schema.Struct({
        users: Schema.Int,
        accounts: Schema.Int,
        transactions: Schema.Int,
        total_balance: Schema.String,
        notifications: Schema.Int,
        purchases: Schema.NullOr(Schema.Int),
        ingested_records: Schema.Int,
        jobs: Schema.Int,
        generated_at: Schema.String
      }),
      error: Forbidden
    })
  )
  .middleware(Authentication)
  .annotate(
    OpenApi.Description,
    `Ingest records (one or up to ${Ingest.maxPerRequest} per request, up to ${Ingest.maxPerBatch} per batch; data up to ${Ingest.maxDataBytes} bytes each): accepted once the broker holds them, stored by a batching worker.`
  )

export const JobsGroup = HttpApiGroup.make("jobs")
  .add(
    HttpApiEndpoint.post("create", "/api/jobs", {
      payload: Jobs.PublicJobRequest,
      success: Jobs.Job.pipe(HttpApiSchema.status(202)),
      error: Forbidden
    }).middleware(RequestBody)
  )
  .add(HttpApiEndpoint.get("list", "/api/jobs", { success: Schema.Array(Jobs.Job) }))
  .add(HttpApiEndpoint.get("get", "/api/jobs/:id", { params: { id: Jobs.JobId }, success: Jobs.Job, error: NotFound }))
  .add(
    HttpApiEndpoint.get("result", "/api/jobs/:id/result", {
      params: { id: Jobs.JobId },
      success: Jobs.Csv,
      error: NotFound
    })
  )
  .add(
    HttpApiEndpoint.post("createPipeline", "/api/pipelines", {
      payload: Jobs.PublicPipelineRequest,
      success: Jobs.Pipeline.pipe(HttpApiSchema.status(202)),
      error: Forbidden
    }).middleware(RequestBody)
  )
  .add(
    HttpApiEndpoint.get("getPipeline", "/api/pipelines/:id", {
      params: { id: Jobs.JobId },
      success: Jobs.Pipeline,
      error: NotFound
    })
  )
  .middleware(Authentication)
  .annotate(
    OpenApi.Description,
    "Jobs that do real work as durable workflows (account statements as CSV, ingest summaries, analytics snapshots), and pipelines of them."
  )

export const PurchasesGroup = HttpApiGroup.make("purchases")
  .add(
    HttpApiEndpoint.post("buy", "/api/v1/buy", {
      payload: Schema.Struct({
        username: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(64)),
        userid: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(64)),
        price: Amount
      }),
      headers: IdempotencyKey,
      success: Purchases.Recorded.pipe(HttpApiSchema.status(202)),
      error: Forbidden
    }).middleware(RequestBody)
  )
  .add(
    HttpApiEndpoint.get("list", "/api/v1/purchases/:userid", {
      params: { userid: Schema.String.check(Schema.isMaxLength(64)) },
      success: Schema.Array(Purchases.Purchase),
      error: Forbidden
    })
  )
  .add(
    // Seed 003's web-server route for the same list.
    HttpApiEndpoint.get("getAllUserBuys", "/api/v1/getAllUserBuys/:userid", {
      params: { userid: Schema.String.check(Schema.isMaxLength(64)) },
      success: Schema.Array(Purchases.Purchase),
      error: Forbidden
    })
  )
  .middleware(Authentication)
  .annotate(
    OpenApi.Description,
    "Purchases go to Kafka (topic purchases, keyed by user id) and are stored by a consumer group. A customer buys and sees only as themselves."
  )

export const GatewayApi = HttpApi.make("microbank")
  .add(AuthGroup)
  .add(MeGroup)
  .add(UsersGroup)
  .add(AccountsGroup)
  .add(NotificationsGroup)
  .add(IngestGroup)
  .add(JobsGroup)
  .add(PurchasesGroup)
  .middleware(HttpApiMiddleware.ProblemDetails)
  .annotate(HttpApi.ParseOptions, { errors: "all" })
  .annotate(OpenApi.Title, "Microbank API")
  .annotate(OpenApi.Version, "1.0.0")

export { Email, Password, Phone }
