// One JSON object per line on stdout: time, level, service, msg, annotations (requestId, ...), error.
import { Cause, Logger, References } from "effect"
import { RequestId } from "./requestId.ts"

const render = (value: unknown): unknown => (value instanceof Error ? value.message : value)

export const jsonLogger = (service: string) =>
  Logger.make<unknown, void>(({ message, logLevel, cause, fiber, date }) => {
    const parts = Array.isArray(message) ? message : [message]
    const line: Record<string, unknown> = {
      time: date.toISOString(),
      level: logLevel.toLowerCase(),
      service,
      msg: parts.filter((p) => typeof p === "string").join(" ")
    }
    for (const part of parts)
      if (part !== null && typeof part === "object" && !(part instanceof Error)) Object.assign(line, part)
    const requestId = fiber.getRef(RequestId)
    if (requestId !== undefined) line.requestId = requestId
    for (const [key, value] of Object.entries(fiber.getRef(References.CurrentLogAnnotations))) line[key] = render(value)
    if (cause.reasons.length > 0) line.error = Cause.pretty(cause)
    const text = JSON.stringify(line, (_key, value) => (typeof value === "bigint" ? value.toString() : value))
    if (logLevel === "Error" || logLevel === "Fatal") console.error(text)
    else console.log(text)
  })
