/**
 * The errors Microbank's HTTP APIs answer with, as RFC 9457 problems (`application/problem+json`).
 * Services raise them; the gateway passes them through unchanged, so a client sees the same
 * problem whichever service produced it.
 */
import { Schema } from "effect"
import { HttpApiError } from "effect/http-api"

const base = "https://microbank.dev/problems"

export class NotFound extends HttpApiError.Problem<NotFound>()(
  "NotFound",
  { type: `${base}/not-found`, status: 404, title: "Not found" },
  { resource: Schema.String, id: Schema.String }
) {}

export class Conflict extends HttpApiError.Problem<Conflict>()(
  "Conflict",
  { type: `${base}/conflict`, status: 409, title: "Conflict" },
  { field: Schema.optional(Schema.String), detail: Schema.String }
) {}

export class InsufficientFunds extends HttpApiError.Problem<InsufficientFunds>()(
  "InsufficientFunds",
  { type: `${base}/insufficient-funds`, status: 422, title: "Insufficient funds" },
  { account_id: Schema.String, balance: Schema.String, requested: Schema.String }
) {}

export class AccountClosed extends HttpApiError.Problem<AccountClosed>()(
  "AccountClosed",
  { type: `${base}/account-closed`, status: 409, title: "Account is closed" },
  { account_id: Schema.String }
) {}

export class InvalidOperation extends HttpApiError.Problem<InvalidOperation>()(
  "InvalidOperation",
  { type: `${base}/invalid-operation`, status: 422, title: "Operation not allowed" },
  { detail: Schema.String }
) {}

export class IdempotencyKeyReused extends HttpApiError.Problem<IdempotencyKeyReused>()(
  "IdempotencyKeyReused",
  { type: `${base}/idempotency-key-reused`, status: 422, title: "Idempotency-Key was used for a different request" },
  { key: Schema.String }
) {}

export class InvalidCredentials extends HttpApiError.Problem<InvalidCredentials>()("InvalidCredentials", {
  type: `${base}/invalid-credentials`,
  status: 401,
  title: "Invalid username or password"
}) {}

export class Unauthorized extends HttpApiError.Problem<Unauthorized>()(
  "Unauthorized",
  { type: `${base}/unauthorized`, status: 401, title: "Authentication required" },
  { detail: Schema.String }
) {}

export class Forbidden extends HttpApiError.Problem<Forbidden>()(
  "Forbidden",
  { type: `${base}/forbidden`, status: 403, title: "Forbidden" },
  { detail: Schema.String }
) {}

export class RateLimited extends HttpApiError.Problem<RateLimited>()(
  "RateLimited",
  { type: `${base}/rate-limited`, status: 429, title: "Too many requests" },
  { retry_after_seconds: Schema.Int }
) {}

export class ServiceUnavailable extends HttpApiError.Problem<ServiceUnavailable>()(
  "ServiceUnavailable",
  { type: `${base}/service-unavailable`, status: 503, title: "A service is unavailable" },
  { service: Schema.String }
) {}

/** A request body that is JSON but breaks its schema: one entry in `errors` per issue, each naming its field. */
export class ValidationFailed extends HttpApiError.Problem<ValidationFailed>()(
  "ValidationFailed",
  { type: "about:blank", status: 422, title: "Unprocessable Content" },
  { errors: Schema.Array(HttpApiError.ProblemIssue) }
) {}

/** A request body larger than the service accepts (`MAX_BODY_BYTES`). */
export class PayloadTooLarge extends HttpApiError.Problem<PayloadTooLarge>()("PayloadTooLarge", {
  type: "about:blank",
  status: 413,
  title: "Payload Too Large"
}) {}

/** A request body that is not `application/json`. */
export class UnsupportedMediaType extends HttpApiError.Problem<UnsupportedMediaType>()("UnsupportedMediaType", {
  type: "about:blank",
  status: 415,
  title: "Unsupported Media Type"
}) {}
