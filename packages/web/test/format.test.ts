// Money in and out of the UI: exact formatting of the API's decimal strings, and strict
// reading of what people type, per locale.
import { assert, describe, it } from "vitest"
import { formatMoney, formatSignedMoney, minorToDecimal, parseAmount } from "../src/format.ts"

const value = (input: string, locale: string) => {
  const parsed = parseAmount(input, locale)
  return parsed.ok ? parsed.value : `error: ${parsed.message}`
}

describe("formatMoney", () => {
  it("formats decimal strings exactly, in the locale", () => {
    assert.strictEqual(formatMoney("1500.00", "USD", "en-US"), "$1,500.00")
    assert.strictEqual(formatMoney("1500.5", "USD", "en-US"), "$1,500.50")
    assert.strictEqual(formatMoney("1500.00", "EUR", "de-DE"), "1.500,00\u00a0€")
    // Beyond what a double holds exactly: still every digit.
    assert.strictEqual(formatMoney("90071992547409.93", "USD", "en-US"), "$90,071,992,547,409.93")
    assert.strictEqual(formatMoney("not a number", "USD", "en-US"), "not a number USD")
  })

  it("signs movements", () => {
    assert.strictEqual(formatSignedMoney("12.50", false, "USD", "en-US"), "+$12.50")
    assert.strictEqual(formatSignedMoney("12.50", true, "USD", "en-US"), "-$12.50")
  })

  it("converts minor units with integer arithmetic", () => {
    assert.strictEqual(minorToDecimal(150050), "1500.50")
    assert.strictEqual(minorToDecimal(5), "0.05")
    assert.strictEqual(minorToDecimal(-1250), "-12.50")
    assert.strictEqual(minorToDecimal(9007199254740993n), "90071992547409.93")
  })
})

describe("parseAmount", () => {
  it("reads amounts as written in en-US", () => {
    assert.strictEqual(value("12.5", "en-US"), "12.50")
    assert.strictEqual(value(" 1,234.56 ", "en-US"), "1234.56")
    assert.strictEqual(value("1000000", "en-US"), "1000000.00")
    assert.strictEqual(value("0.01", "en-US"), "0.01")
    assert.strictEqual(value("007", "en-US"), "7.00")
  })

  it("reads amounts as written in de-DE and fr-FR", () => {
    assert.strictEqual(value("12,5", "de-DE"), "12.50")
    assert.strictEqual(value("1.234,56", "de-DE"), "1234.56")
    assert.strictEqual(value("1 234,56", "fr-FR"), "1234.56")
    assert.strictEqual(value("12.50", "fr-FR"), "12.50")
  })

  it("refuses what it would have to guess, and what the bank refuses", () => {
    assert.strictEqual(value("12,50", "en-US"), "error: Enter an amount like 1,234.50.")
    assert.strictEqual(value("12.50", "de-DE"), "error: Enter an amount like 1.234,50.")
    assert.strictEqual(value("1.005", "en-US"), "error: Use at most two decimals (cents).")
    assert.strictEqual(value("0", "en-US"), "error: Enter an amount greater than zero.")
    assert.strictEqual(value("-5", "en-US"), "error: Enter an amount greater than zero.")
    assert.strictEqual(value("", "en-US"), "error: Enter an amount.")
    assert.strictEqual(value("1e3", "en-US"), "error: Enter an amount like 1,234.50.")
    assert.strictEqual(value("1000000.01", "en-US"), "error: The most you can move at once is 1,000,000.00.")
    assert.strictEqual(value("99999999999", "en-US"), "error: The most you can move at once is 1,000,000.00.")
  })
})
