/**
 * Microbank's aggregated OpenAPI document (the one the gateway serves at `/openapi.json`),
 * read as a list of operations: what each accepts and every response it documents. The
 * attacks enumerate routes from here, never from a hand-copied list.
 */
import { Gateway } from "@microbank/contracts"
import { OpenApi } from "effect/http-api"
import * as JsonSchema from "./JsonSchema.ts"

export interface Parameter {
  readonly name: string
  readonly in: "path" | "query" | "header"
  readonly required: boolean
  readonly schema: JsonSchema.Schema
}

export interface Operation {
  /** `group.endpoint`, e.g. `accounts.deposit`. */
  readonly id: string
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  /** The path template, e.g. `/api/accounts/{id}/deposits`. */
  readonly path: string
  readonly parameters: ReadonlyArray<Parameter>
  readonly body: JsonSchema.Schema | undefined
  /** Documented responses: status → content type → schema. */
  readonly responses: Readonly<Record<string, Readonly<Record<string, JsonSchema.Schema>>>>
  /** Needs a bearer token. */
  readonly secured: boolean
}

export interface Document {
  readonly raw: Record<string, any>
  readonly operations: ReadonlyArray<Operation>
  readonly definitions: JsonSchema.Definitions
}

/** The document as the gateway serves it. */
export const spec = (): Record<string, any> => OpenApi.fromApi(Gateway.GatewayApi) as unknown as Record<string, any>

export const read = (raw: Record<string, any> = spec()): Document => {
  const operations: Array<Operation> = []
  for (const [path, item] of Object.entries(raw.paths as Record<string, Record<string, any>>)) {
    for (const [method, op] of Object.entries(item)) {
      const responses: Record<string, Record<string, JsonSchema.Schema>> = {}
      for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
        responses[status] = Object.fromEntries(
          Object.entries((response.content ?? {}) as Record<string, { schema: JsonSchema.Schema }>).map(([type, c]) => [
            type,
            c.schema
          ])
        )
      }
      const security = (op.security ?? raw.security ?? []) as Array<Record<string, unknown>>
      operations.push({
        id: op.operationId,
        method: method.toUpperCase() as Operation["method"],
        path,
        parameters: (op.parameters ?? []) as Array<Parameter>,
        body: op.requestBody?.content?.["application/json"]?.schema,
        responses,
        secured: security.some((s) => Object.keys(s).length > 0)
      })
    }
  }
  return { raw, operations, definitions: (raw.components?.schemas ?? {}) as JsonSchema.Definitions }
}

/** Fills a path template: every value percent-encoded, dots too, so a value stays one path segment. */
export const fillPath = (template: string, values: Readonly<Record<string, string>>): string =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => encode(values[name] ?? "").replace(/\./g, "%2E"))

/** `encodeURIComponent`, except that a lone surrogate is sent as the bytes a careless client would send. */
export const encode = (value: string): string =>
  value.replace(/[\s\S]/gu, (c) => {
    try {
      return encodeURIComponent(c)
    } catch {
      return "%ED%A0%80"
    }
  })

/**
 * Why a response is not one the operation documents (undefined when it is): its status must be
 * listed, and its body must match the schema documented for that status and content type.
 */
export const checkResponse = (
  document: Document,
  operation: Operation,
  response: { readonly status: number; readonly contentType: string | null; readonly text: string }
): string | undefined => {
  const documented = operation.responses[String(response.status)]
  if (documented === undefined)
    return `status ${response.status} is not documented for ${operation.id} (documented: ${Object.keys(operation.responses).join(", ")})`
  const types = Object.keys(documented)
  if (types.length === 0) return response.text === "" ? undefined : `status ${response.status} documents no body`
  const mediaType = (response.contentType ?? "").split(";")[0]!.trim().toLowerCase()
  const type = types.find((t) => t.split(";")[0]!.trim().toLowerCase() === mediaType)
  if (type === undefined)
    return `content type ${response.contentType} is not documented for ${response.status} (documented: ${types.join(", ")})`
  let body: unknown = response.text
  if (/json/.test(mediaType)) {
    try {
      body = JSON.parse(response.text)
    } catch {
      return `body is not JSON: ${response.text.slice(0, 120)}`
    }
  }
  const errors = JsonSchema.validate(documented[type]!, body, document.definitions)
  return errors.length === 0 ? undefined : `body does not match the documented schema: ${errors.slice(0, 3).join("; ")}`
}
