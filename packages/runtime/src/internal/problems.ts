// Request validation failures as RFC 9457 problems: malformed JSON → 400, a well-formed body
// that fails its schema → 422 with one entry per issue, bad path/query/headers → 400.
import { Effect, SchemaIssue } from "effect"
import { HttpServerResponse } from "effect/http"
import { HttpApiMiddleware } from "effect/http-api"

const format = SchemaIssue.makeFormatterStandardSchemaV1()

export const problemResponse = (status: number, title: string, extra: Record<string, unknown> = {}) =>
  HttpServerResponse.jsonUnsafe(
    { type: "about:blank", status, title, ...extra },
    { status, contentType: "application/problem+json" }
  )

export const layerProblemDetails = HttpApiMiddleware.layerSchemaErrorTransform(
  HttpApiMiddleware.ProblemDetails,
  (error) => {
    if (error.kind === "Body" || error.kind === "ResponseHeaders") {
      return Effect.andThen(
        Effect.logError("response did not match its schema", error.cause),
        Effect.succeed(problemResponse(500, "Internal Server Error"))
      )
    }
    const slot = error.kind.toLowerCase()
    const issues = format(error.cause.issue).issues.map((issue) => ({
      path: [
        slot,
        ...(issue.path ?? [])
          .map((p) => (typeof p === "object" && p !== null && "key" in p ? (p as { key: PropertyKey }).key : p))
          .map(String)
      ],
      message: issue.message
    }))
    const malformed =
      error.kind === "Payload" &&
      issues.length === 1 &&
      issues[0]!.path.length === 1 &&
      issues[0]!.message === "Expected a valid JSON body"
    if (malformed)
      return Effect.succeed(problemResponse(400, "Bad Request", { detail: "the request body is not valid JSON" }))
    if (error.kind === "Payload") {
      return Effect.succeed(
        problemResponse(422, "Unprocessable Content", { detail: "the request body failed validation", errors: issues })
      )
    }
    return Effect.succeed(problemResponse(400, "Bad Request", { detail: `invalid ${slot}`, errors: issues }))
  }
)
