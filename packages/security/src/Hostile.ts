/**
 * Generated requests for one operation of the OpenAPI document: valid-shaped ones (from the
 * documented schemas) and malformed ones (wrong types, hostile numbers and strings, missing and
 * extra fields, junk bodies, traversal in path parameters, junk in the query string).
 */
import fc from "fast-check"
import * as JsonSchema from "./JsonSchema.ts"
import type { Document, Operation, Parameter } from "./OpenApiModel.ts"
import { encode, fillPath } from "./OpenApiModel.ts"

export type Caller = "customer" | "admin"

export interface Body {
  readonly contentType: string
  /** JSON text, or raw bytes (invalid UTF-8, binary). */
  readonly data: string | Uint8Array
}

export interface HostileRequest {
  readonly caller: Caller
  readonly method: string
  /** Path with query string, ready to append to the gateway URL. */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: Body | undefined
  /** One line saying what was generated, for reports. */
  readonly label: string
}

/** Ids that exist in the system under test, mixed into id-shaped values so some requests reach real data. */
export interface KnownIds {
  readonly uuids: ReadonlyArray<string>
  readonly strings: ReadonlyArray<string>
}

export const hostileNumbers: ReadonlyArray<number> = [
  0,
  -0,
  -1,
  -0.01,
  0.001,
  0.005,
  1.005,
  0.1 + 0.2,
  12.345,
  1e-7,
  1e21,
  1e308,
  -1e308,
  5e-324,
  2 ** 31,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  Number.MAX_SAFE_INTEGER,
  Number.MAX_VALUE,
  100_000_000,
  1_000_000.01,
  99_999_999_999.99
]

export const hostileStrings: ReadonlyArray<string> = [
  "",
  " ",
  "\u0000",
  "\u0000abc",
  "\t\n\r",
  "\u202e\u0644\u0627", // right-to-left override, Arabic
  "e\u0301\u0301\u0301", // stacked combining marks
  "\ud800", // lone surrogate
  "\udfff\ud800",
  "\ufeff12.50", // BOM
  "𝕳𝖊𝖑𝖑𝖔 👩‍👩‍👧‍👦",
  "\uff11\uff12.\uff15\uff10", // full-width digits
  "\u0661\u0662\u0663", // Arabic-Indic digits
  "12.50\n",
  " 12.50",
  "-12.50",
  "1e3",
  "0x10",
  "Infinity",
  "NaN",
  "null",
  "true",
  "00012.5",
  "12.",
  ".5",
  "1,000.00",
  "99999999999.99",
  "../../../../etc/passwd",
  "..\\..\\windows\\win.ini",
  "%2e%2e%2f%2e%2e%2f",
  "%00",
  "'; drop table users; --",
  "' or '1'='1",
  "$where",
  '{"$gt":""}',
  "<script>alert(1)</script>",
  "${7*7}{{7*7}}",
  "__proto__",
  "constructor",
  "admin",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "a".repeat(129),
  "x".repeat(10_000),
  "é".repeat(5_000)
]

/** A value of the wrong kind, or a hostile one of the right kind. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constantFrom(...hostileNumbers), weight: 3 },
  { arbitrary: fc.constantFrom(...hostileStrings), weight: 4 },
  { arbitrary: fc.constantFrom<unknown>(null, true, false, [], {}, [null], { "": "" }), weight: 2 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 30 }), weight: 2 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
  {
    arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => JSON.parse("[".repeat(n) + "]".repeat(n)) as unknown),
    weight: 1
  }
)

const hostileKeys = [
  "__proto__",
  "constructor",
  "prototype",
  "",
  " ",
  "$where",
  "role",
  "owner_id",
  "x".repeat(300),
  "é"
]

/** Raw bodies that are not a JSON document of the right shape at all. */
const rawBodies: fc.Arbitrary<Body> = fc.oneof(
  fc.constantFrom<Body>(
    { contentType: "application/json", data: "" },
    { contentType: "application/json", data: "{" },
    { contentType: "application/json", data: '{"a":1,}' },
    { contentType: "application/json", data: "{'a':1}" },
    { contentType: "application/json", data: "NaN" },
    { contentType: "application/json", data: "1e999" },
    { contentType: "application/json", data: '{"amount":1e999}' },
    { contentType: "application/json", data: '{"amount":-0}' },
    { contentType: "application/json", data: '{"amount":1,"amount":"x"}' },
    { contentType: "application/json", data: '{"__proto__":{"admin":true}}' },
    { contentType: "application/json", data: '{"constructor":{"prototype":{"role":"admin"}}}' },
    { contentType: "application/json", data: "\ufeff{}" },
    { contentType: "application/json", data: "null" },
    { contentType: "application/json", data: "[]" },
    { contentType: "application/json", data: '"just a string"' },
    {
      contentType: "application/json",
      data: new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])
    },
    { contentType: "application/json", data: new Uint8Array([0xc0, 0xaf, 0xed, 0xa0, 0x80]) },
    { contentType: "application/json", data: new Uint8Array([0, 0, 0, 0]) },
    { contentType: "text/plain", data: "hello" },
    { contentType: "application/x-www-form-urlencoded", data: "a=1&b=2" },
    {
      contentType: "multipart/form-data; boundary=x",
      data: "--x\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--x--"
    },
    {
      contentType: "application/xml",
      data: '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    }
  ),
  fc.integer({ min: 50, max: 2_000 }).map((n) => ({
    contentType: "application/json",
    data: "[".repeat(n) + "]".repeat(n)
  })),
  fc.integer({ min: 50, max: 2_000 }).map((n) => ({
    contentType: "application/json",
    data: '{"a":'.repeat(n) + "1" + "}".repeat(n)
  })),
  fc.uint8Array({ maxLength: 200 }).map((data) => ({ contentType: "application/json", data }))
)

/** A JSON value derived from a valid one by one hostile change. */
const mutate = (valid: unknown): fc.Arbitrary<unknown> => {
  if (valid === null || typeof valid !== "object" || Array.isArray(valid)) return hostileValue
  const object = valid as Record<string, unknown>
  const keys = Object.keys(object)
  const options: Array<fc.Arbitrary<unknown>> = [
    // an extra field, sometimes with a hostile name
    fc
      .tuple(fc.oneof(fc.constantFrom(...hostileKeys), fc.string({ maxLength: 10 })), hostileValue)
      .map(([k, v]) => ({ ...object, [k]: v })),
    // the whole body replaced
    hostileValue
  ]
  if (keys.length > 0) {
    options.push(
      // a field dropped
      fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(object).filter(([key]) => key !== k))),
      // a field given a hostile value
      fc.tuple(fc.constantFrom(...keys), hostileValue).map(([k, v]) => ({ ...object, [k]: v })),
      // two fields given hostile values
      fc
        .tuple(fc.constantFrom(...keys), fc.constantFrom(...keys), hostileValue, hostileValue)
        .map(([k1, k2, v1, v2]) => ({ ...object, [k1]: v1, [k2]: v2 }))
    )
  }
  return fc.oneof(...options)
}

/** Replaces some string leaves that look like ids with known ids, so valid-shaped requests reach real rows. */
const withKnownIds = (value: unknown, known: KnownIds): fc.Arbitrary<unknown> =>
  fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }).chain((coins) =>
    fc.constantFrom(...known.uuids).map((id) => {
      let i = 0
      const walk = (v: unknown, key?: string): unknown => {
        if (typeof v === "string" && (/^[0-9a-f-]{36}$/i.test(v) || key === "userid") && coins[i++ % coins.length])
          return id
        if (Array.isArray(v)) return v.map((x) => walk(x))
        if (v !== null && typeof v === "object")
          return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]))
        return v
      }
      return walk(value)
    })
  )

/** Money fields get realistic amounts half the time (the schema's pattern alone rarely yields one in range). */
const amountFields = new Set(["amount", "price", "initial_deposit"])
const realisticAmount = fc.oneof(
  fc.constantFrom("0.01", "1.00", "12.50", "99.99", "250", "1000000.00", 5, 12.5, 0.01),
  fc.integer({ min: 1, max: 100_000 }).map((minor) => (minor / 100).toFixed(2))
)
const withRealisticAmounts = (value: unknown): fc.Arbitrary<unknown> =>
  value === null || typeof value !== "object" || Array.isArray(value)
    ? fc.constant(value)
    : fc
        .tuple(fc.boolean(), realisticAmount)
        .map(([use, amount]) =>
          Object.fromEntries(
            Object.entries(value as Record<string, unknown>).map(([k, v]) => [
              k,
              use && amountFields.has(k) ? amount : v
            ])
          )
        )

const parameterValue = (parameter: Parameter, document: Document, known: KnownIds): fc.Arbitrary<string> => {
  const valid = JsonSchema.arbitrary(parameter.schema, document.definitions).map((v) => String(v))
  const schema = parameter.schema as Record<string, unknown>
  const numeric = schema.type === "string" && schema.pattern === undefined && schema.format === undefined
  return fc.oneof(
    { arbitrary: valid, weight: 3 },
    { arbitrary: fc.constantFrom(...known.uuids, ...known.strings), weight: 5 },
    ...(numeric
      ? [
          {
            arbitrary: fc.constantFrom("0", "1", "5", "50", "100", "101", "500", "501", "-1", "1.5", "1e2", " 1"),
            weight: 2
          }
        ]
      : []),
    { arbitrary: fc.constantFrom(...hostileStrings).map((s) => s.slice(0, 2_000)), weight: 3 },
    { arbitrary: fc.string({ unit: "binary", maxLength: 20 }), weight: 1 }
  )
}

// Header values must be ISO-8859-1 on the wire; anything else is sent percent-encoded.
const headerSafe = (value: string) => (/^[\t\x20-\x7e\x80-\xff]*$/.test(value) ? value : encode(value))

const encodeQueryValue = encode

/** Generated requests for `operation`: mostly malformed, some valid-shaped. */
export const requests = (document: Document, operation: Operation, known: KnownIds): fc.Arbitrary<HostileRequest> => {
  const pathParameters = operation.parameters.filter((p) => p.in === "path")
  const queryParameters = operation.parameters.filter((p) => p.in === "query")
  const headerParameters = operation.parameters.filter((p) => p.in === "header")

  const path = fc
    // An empty value would make a URL that names no operation at all.
    .tuple(...pathParameters.map((p) => parameterValue(p, document, known).filter((v) => v !== "")))
    .map((values) => fillPath(operation.path, Object.fromEntries(pathParameters.map((p, i) => [p.name, values[i]!]))))

  const query = fc
    .tuple(
      ...queryParameters.map((p) =>
        fc.option(parameterValue(p, document, known), { freq: 2, nil: undefined }).map((v) => [p.name, v] as const)
      ),
      // junk: unknown parameters, repeated parameters, broken encodings
      fc.array(
        fc.oneof(
          fc.tuple(
            fc.string({ maxLength: 8 }),
            fc.constantFrom(...hostileStrings).map((s) => s.slice(0, 500))
          ),
          fc.constantFrom(...queryParameters.map((p) => p.name), "x").map((name) => [name, "1"] as [string, string])
        ),
        { maxLength: 2 }
      ),
      // Broken encodings fail the whole query (400) before anything else is checked: now and then.
      fc.oneof(
        { arbitrary: fc.constant(""), weight: 6 },
        { arbitrary: fc.constantFrom("&%", "&a=%zz", "&%ff=1", "&=&&=", "&a[b]=1&a[c]=2"), weight: 1 }
      )
    )
    .map((parts) => {
      const raw = parts.slice(0, -1) as Array<unknown>
      const tail = parts[parts.length - 1] as string
      const declared = raw.slice(0, queryParameters.length) as Array<readonly [string, string | undefined]>
      const junk = (raw[queryParameters.length] ?? []) as Array<[string, string]>
      const pairs = [...declared.filter(([, v]) => v !== undefined), ...junk] as Array<readonly [string, string]>
      const text = pairs.map(([k, v]) => `${encodeQueryValue(k)}=${encodeQueryValue(v)}`).join("&") + tail
      return text === "" ? "" : `?${text.replace(/^&/, "")}`
    })

  const headers = fc
    .tuple(
      ...headerParameters.map((p) =>
        fc.option(parameterValue(p, document, known), { freq: 2, nil: undefined }).map((v) => [p.name, v] as const)
      )
    )
    .map(
      (pairs) =>
        Object.fromEntries(
          pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [k, headerSafe(v!).slice(0, 4_000)])
        ) as Record<string, string>
    )

  const bodies: fc.Arbitrary<Body | undefined> =
    operation.body === undefined
      ? fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: rawBodies, weight: 1 })
      : fc.oneof(
          {
            arbitrary: JsonSchema.arbitrary(operation.body, document.definitions)
              .chain((v) => withKnownIds(v, known))
              .chain(withRealisticAmounts)
              .map((v) => ({ contentType: "application/json", data: JSON.stringify(v) })),
            weight: 3
          },
          {
            arbitrary: JsonSchema.arbitrary(operation.body, document.definitions)
              .chain((v) => withKnownIds(v, known))
              .chain(mutate)
              .map((v) => ({ contentType: "application/json", data: JSON.stringify(v) ?? "" })),
            weight: 6
          },
          { arbitrary: rawBodies, weight: 2 },
          { arbitrary: fc.constant(undefined), weight: 1 }
        )

  return fc
    .record({
      caller: fc.constantFrom<Caller>("customer", "customer", "customer", "admin"),
      path,
      query,
      headers,
      body: bodies
    })
    .map(({ caller, path, query, headers, body }) => ({
      caller,
      method: operation.method,
      url: `${path}${query}`,
      headers,
      body,
      label: `${caller} ${operation.method} ${path}${query}`.slice(0, 300) + (body ? ` body ${describeBody(body)}` : "")
    }))
}

const describeBody = (body: Body) =>
  `(${body.contentType}) ${
    typeof body.data === "string"
      ? JSON.stringify(body.data.length > 200 ? `${body.data.slice(0, 200)}…(${body.data.length})` : body.data)
      : `bytes ${Buffer.from(body.data).toString("hex").slice(0, 80)}`
  }`
