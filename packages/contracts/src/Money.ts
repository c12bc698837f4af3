/**
 * Money: stored and computed as integer minor units (cents), never floats. The public API
 * accepts an amount as a decimal string ("12.50") or a JSON number with at most two decimals
 * (12.5), and answers with decimal strings.
 */
import { Schema } from "effect"

/** Largest single amount: 1 000 000.00. */
export const maxMinor = 100_000_000

/** A strictly positive amount in minor units, at most 1 000 000.00. */
export const MinorUnits = Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: maxMinor }))

/** Converts a validated `Amount` to minor units (may be 0 or out of range: check with `MinorUnits`). */
export const toMinor = (amount: string | number): number => {
  if (typeof amount === "number") return Math.round(amount * 100)
  const [whole, fraction = ""] = amount.split(".")
  return Number(whole) * 100 + Number(fraction.padEnd(2, "0"))
}

const decimalPattern = /^(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?$/

/** What a client may send as an amount. */
export const Amount = Schema.Union([
  Schema.String.check(
    Schema.isPattern(decimalPattern, { message: 'must be a positive decimal with at most two decimals, like "12.50"' })
  ),
  // A JSON number qualifies only if its shortest decimal form has at most two decimals
  // (0.1 + 0.2 = 0.30000000000000004 does not).
  Schema.Finite.check(
    Schema.makeFilter((n: number) => decimalPattern.test(String(n)), {
      message: "must have at most two decimals"
    })
  )
])
  .pipe(
    Schema.check(
      Schema.makeFilter(
        (a: string | number) => {
          const minor = toMinor(a)
          return minor >= 1 && minor <= maxMinor
        },
        { message: "must be more than 0 and at most 1000000.00" }
      )
    )
  )
  .annotate({ description: 'amount in the account currency, e.g. "12.50" or 12.5' })

/** 150000 → "1500.00" */
export const format = (minor: number): string => {
  const sign = minor < 0 ? "-" : ""
  const abs = Math.abs(minor)
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`
}

/** 150000 → "$1,500.00", as seed 002's notification texts read. */
export const display = (minor: number): string => {
  const [whole, cents] = format(Math.abs(minor)).split(".")
  return `${minor < 0 ? "-" : ""}$${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${cents}`
}
