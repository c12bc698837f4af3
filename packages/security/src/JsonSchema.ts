/**
 * The JSON Schema (2020-12, as OpenAPI 3.1 uses it) that Effect's `OpenApi.fromApi` emits, for
 * two jobs: validating a response body against its documented schema, and generating values
 * of a request schema with fast-check. Only the keywords the document uses are supported; any
 * other keyword is an error, so a new construct can never be skipped silently.
 */
import fc from "fast-check"

export type Schema = { readonly [keyword: string]: unknown } | boolean

export type Definitions = Readonly<Record<string, Schema>>

const annotations = new Set(["description", "title", "examples", "default", "$id", "$comment", "contentMediaType"])
const supported = new Set([
  "$ref",
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "enum",
  "const",
  "anyOf",
  "oneOf",
  "allOf",
  "not",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "minItems",
  "maxItems"
])

const resolve = (schema: Schema, definitions: Definitions): Schema => {
  if (typeof schema === "boolean") return schema
  const ref = schema.$ref
  if (typeof ref !== "string") return schema
  const name = ref.replace(/^#\/components\/schemas\//, "")
  const target = definitions[name]
  if (target === undefined) throw new Error(`unresolvable $ref ${ref}`)
  return resolve(target, definitions)
}

const typeOf = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value === "number" ? "number" : typeof value

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Every way `value` breaks `schema` (empty when it conforms), each with a JSON path. */
export const validate = (schema: Schema, value: unknown, definitions: Definitions, path = "$"): Array<string> => {
  const s = resolve(schema, definitions)
  if (s === true) return []
  if (s === false) return [`${path}: no value is allowed here`]
  const errors: Array<string> = []
  for (const keyword of Object.keys(s)) {
    if (!supported.has(keyword) && !annotations.has(keyword))
      throw new Error(`JSON Schema keyword "${keyword}" at ${path} is not supported by this validator`)
  }
  const type = s.type
  if (type !== undefined) {
    const types = Array.isArray(type) ? (type as Array<string>) : [type as string]
    const actual = typeOf(value)
    const ok = types.some((t) => (t === "integer" ? actual === "number" && Number.isInteger(value) : t === actual))
    if (!ok) return [`${path}: expected ${types.join(" or ")}, got ${actual}`]
  }
  if (s.enum !== undefined && !(s.enum as Array<unknown>).some((e) => JSON.stringify(e) === JSON.stringify(value)))
    errors.push(`${path}: ${JSON.stringify(value)?.slice(0, 80)} is not one of ${JSON.stringify(s.enum)}`)
  if (s.const !== undefined && JSON.stringify(s.const) !== JSON.stringify(value))
    errors.push(`${path}: expected ${JSON.stringify(s.const)}`)
  if (typeof value === "number") {
    if (typeof s.minimum === "number" && value < s.minimum) errors.push(`${path}: ${value} < minimum ${s.minimum}`)
    if (typeof s.maximum === "number" && value > s.maximum) errors.push(`${path}: ${value} > maximum ${s.maximum}`)
    if (typeof s.exclusiveMinimum === "number" && value <= s.exclusiveMinimum)
      errors.push(`${path}: ${value} <= exclusiveMinimum ${s.exclusiveMinimum}`)
    if (typeof s.exclusiveMaximum === "number" && value >= s.exclusiveMaximum)
      errors.push(`${path}: ${value} >= exclusiveMaximum ${s.exclusiveMaximum}`)
  }
  if (typeof value === "string") {
    const length = [...value].length
    if (typeof s.minLength === "number" && length < s.minLength) errors.push(`${path}: shorter than ${s.minLength}`)
    if (typeof s.maxLength === "number" && length > s.maxLength) errors.push(`${path}: longer than ${s.maxLength}`)
    if (typeof s.pattern === "string" && !new RegExp(s.pattern, "u").test(value))
      errors.push(`${path}: ${JSON.stringify(value).slice(0, 80)} does not match ${s.pattern}`)
    if (s.format === "uuid" && !uuidPattern.test(value)) errors.push(`${path}: not a UUID`)
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === "number" && value.length < s.minItems)
      errors.push(`${path}: fewer than ${s.minItems} items`)
    if (typeof s.maxItems === "number" && value.length > s.maxItems)
      errors.push(`${path}: more than ${s.maxItems} items`)
    if (s.items !== undefined)
      value.forEach((item, i) => errors.push(...validate(s.items as Schema, item, definitions, `${path}[${i}]`)))
  }
  if (typeOf(value) === "object") {
    const object = value as Record<string, unknown>
    const properties = (s.properties ?? {}) as Record<string, Schema>
    for (const key of (s.required ?? []) as Array<string>) {
      if (!(key in object)) errors.push(`${path}: missing required property "${key}"`)
    }
    for (const [key, v] of Object.entries(object)) {
      if (key in properties) errors.push(...validate(properties[key]!, v, definitions, `${path}.${key}`))
      else if (s.additionalProperties === false) errors.push(`${path}: unexpected property "${key}"`)
      else if (typeof s.additionalProperties === "object")
        errors.push(...validate(s.additionalProperties as Schema, v, definitions, `${path}.${key}`))
    }
  }
  if (s.allOf !== undefined)
    for (const sub of s.allOf as Array<Schema>) errors.push(...validate(sub, value, definitions, path))
  if (s.anyOf !== undefined) {
    const results = (s.anyOf as Array<Schema>).map((sub) => validate(sub, value, definitions, path))
    if (!results.some((r) => r.length === 0))
      errors.push(`${path}: matches none of anyOf (${results.map((r) => r[0]).join(" | ")})`)
  }
  if (s.oneOf !== undefined) {
    const matching = (s.oneOf as Array<Schema>).filter((sub) => validate(sub, value, definitions, path).length === 0)
    if (matching.length !== 1) errors.push(`${path}: matches ${matching.length} of oneOf, expected exactly 1`)
  }
  if (s.not !== undefined && validate(s.not as Schema, value, definitions, path).length === 0)
    errors.push(`${path}: matches a "not" schema`)
  return errors
}

/** Values that are valid for `schema` (as far as JSON Schema can say: checks beyond it may still reject them). */
export const arbitrary = (schema: Schema, definitions: Definitions, depth = 0): fc.Arbitrary<unknown> => {
  const s = resolve(schema, definitions)
  if (s === true) return fc.jsonValue({ maxDepth: 2 })
  if (s === false) return fc.constant(undefined)
  if (s.enum !== undefined) return fc.constantFrom(...(s.enum as Array<unknown>))
  if (s.const !== undefined) return fc.constant(s.const)
  if (s.anyOf !== undefined || s.oneOf !== undefined)
    return fc.oneof(...((s.anyOf ?? s.oneOf) as Array<Schema>).map((sub) => arbitrary(sub, definitions, depth + 1)))
  const type = Array.isArray(s.type) ? (s.type as Array<string>)[0] : (s.type as string | undefined)
  switch (type) {
    case "null":
      return fc.constant(null)
    case "boolean":
      return fc.boolean()
    case "integer":
      return fc.integer({
        min: Math.max(Number.MIN_SAFE_INTEGER, typeof s.minimum === "number" ? s.minimum : -1_000_000),
        max: Math.min(Number.MAX_SAFE_INTEGER, typeof s.maximum === "number" ? s.maximum : 1_000_000)
      })
    case "number":
      return fc.double({
        min: typeof s.minimum === "number" ? s.minimum : -1e9,
        max: typeof s.maximum === "number" ? s.maximum : 1e9,
        noNaN: true,
        noDefaultInfinity: true
      })
    case "string": {
      if (s.format === "uuid") return fc.uuid({ version: [4, 7] })
      const minLength = typeof s.minLength === "number" ? s.minLength : 0
      const maxLength = Math.min(typeof s.maxLength === "number" ? s.maxLength : 40, 200)
      const base =
        typeof s.pattern === "string" ? fc.stringMatching(new RegExp(s.pattern)) : fc.string({ minLength, maxLength })
      return base.filter((v) => [...v].length >= minLength && [...v].length <= maxLength)
    }
    case "array": {
      const items =
        s.items === undefined ? fc.jsonValue({ maxDepth: 1 }) : arbitrary(s.items as Schema, definitions, depth + 1)
      const minLength = typeof s.minItems === "number" ? s.minItems : 0
      const maxLength = Math.min(typeof s.maxItems === "number" ? s.maxItems : 4, minLength + (depth > 2 ? 0 : 3))
      return fc.array(items, { minLength, maxLength })
    }
    case "object":
    case undefined: {
      if (s.properties === undefined) return fc.jsonValue({ maxDepth: 2 })
      const properties = s.properties as Record<string, Schema>
      const required = new Set((s.required ?? []) as Array<string>)
      return fc.record(
        Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, arbitrary(v, definitions, depth + 1)])),
        { requiredKeys: [...required] }
      )
    }
    default:
      throw new Error(`cannot generate values of type ${String(type)}`)
  }
}
