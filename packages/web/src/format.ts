/**
 * Money, dates and account labels for display, in the browser's locale. Amounts come from the
 * API as decimal strings ("1500.00") and go to `Intl.NumberFormat` as strings, which formats them
 * exactly: no amount ever passes through floating-point arithmetic.
 */
import type { Account } from "./api.ts"

const decimal = /^-?[0-9]+(\.[0-9]+)?$/

const moneyFormats = new Map<string, Intl.NumberFormat>()
const moneyFormat = (currency: string, locale: string | undefined, signed: boolean): Intl.NumberFormat => {
  const key = `${locale ?? ""}|${currency}|${signed}`
  let format = moneyFormats.get(key)
  if (format === undefined) {
    format = new Intl.NumberFormat(locale, {
      style: "currency",
      currency,
      ...(signed ? { signDisplay: "exceptZero" as const } : {})
    })
    moneyFormats.set(key, format)
  }
  return format
}

/** "1500.00", "USD" → "$1,500.00" (en-US) or "1.500,00 $" (de-DE). */
export const formatMoney = (amount: string, currency: string, locale?: string): string =>
  decimal.test(amount) ? moneyFormat(currency, locale, false).format(amount as `${number}`) : `${amount} ${currency}`

/** Like `formatMoney`, with an explicit sign: "+$12.50", "−$12.50". */
export const formatSignedMoney = (amount: string, negative: boolean, currency: string, locale?: string): string => {
  if (!decimal.test(amount)) return `${negative ? "-" : "+"}${amount} ${currency}`
  const value = negative && !amount.startsWith("-") ? `-${amount}` : amount
  return moneyFormat(currency, locale, true).format(value as `${number}`)
}

/** Integer minor units → decimal string, with integer arithmetic only: 150050 → "1500.50". */
export const minorToDecimal = (minor: number | bigint): string => {
  const value = BigInt(minor)
  const sign = value < 0n ? "-" : ""
  const abs = value < 0n ? -value : value
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`
}

/** A plain number in the locale, from a decimal string: "12.50" → "12.50" / "12,50". */
export const formatDecimal = (amount: string, locale?: string): string =>
  new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(amount as `${number}`)

/** The largest single amount the API accepts (1 000 000.00), in minor units. */
export const maxMinor = 100_000_000n

export type ParsedAmount =
  | { readonly ok: true; readonly value: string; readonly minor: bigint }
  | { readonly ok: false; readonly message: string }

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const separators = (locale: string | undefined) => {
  const parts = new Intl.NumberFormat(locale).formatToParts(12345.6)
  return {
    group: parts.find((p) => p.type === "group")?.value ?? ",",
    decimal: parts.find((p) => p.type === "decimal")?.value ?? "."
  }
}

/** How a parsed amount is named in messages: money moved, or the price of a purchase. */
export type AmountNoun = "amount" | "price"

/**
 * Reads an amount typed by a person in their locale ("1,234.50" in en-US, "1.234,50" in de-DE;
 * "." is always accepted as the decimal point where it is not the group separator) and returns
 * the decimal string the API takes ("1234.50"). Ambiguous input such as "12,50" in en-US is
 * refused rather than guessed: with money, 1250 is not a harmless misreading of 12.50.
 */
export const parseAmount = (input: string, locale?: string, noun: AmountNoun = "amount"): ParsedAmount => {
  const { group, decimal: point } = separators(locale)
  const example = formatDecimal("1234.50", locale)
  const an = noun === "price" ? "a price" : "an amount"
  const most =
    noun === "price"
      ? `A price can be at most ${formatDecimal("1000000.00", locale)}.`
      : `The most you can move at once is ${formatDecimal("1000000.00", locale)}.`
  const text = input.replace(/[\s\u00a0\u202f]/g, "")
  if (text === "") return { ok: false, message: `Enter ${an}.` }
  if (text.startsWith("-")) return { ok: false, message: `Enter ${an} greater than zero.` }
  const groupChar = /\s/.test(group) || group === "\u00a0" || group === "\u202f" ? "" : group
  const points = [point, ...(point !== "." && groupChar !== "." ? ["."] : [])]
  const wholePattern = groupChar === "" ? "[0-9]+" : `(?:[0-9]+|[0-9]{1,3}(?:${escape(groupChar)}[0-9]{3})+)`
  const pattern = new RegExp(`^(${wholePattern})(?:(${points.map(escape).join("|")})([0-9]+))?$`)
  const match = pattern.exec(text)
  if (match === null) return { ok: false, message: `Enter ${an} like ${example}.` }
  const whole = (groupChar === "" ? match[1]! : match[1]!.split(groupChar).join("")).replace(/^0+(?=[0-9])/, "")
  const fraction = match[3] ?? ""
  if (fraction.length > 2) return { ok: false, message: "Use at most two decimals (cents)." }
  if (whole.length > 10) return { ok: false, message: most }
  const minor = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, "0"))
  if (minor < 1n) return { ok: false, message: `Enter ${an} greater than zero.` }
  if (minor > maxMinor) return { ok: false, message: most }
  return { ok: true, value: minorToDecimal(minor), minor }
}

const dateFormats = new Map<string, Intl.DateTimeFormat>()
const formatWith =
  (options: Intl.DateTimeFormatOptions) =>
  (iso: string, locale?: string): string => {
    const key = `${locale ?? ""}|${JSON.stringify(options)}`
    let format = dateFormats.get(key)
    if (format === undefined) {
      format = new Intl.DateTimeFormat(locale, options)
      dateFormats.set(key, format)
    }
    const date = new Date(iso)
    return Number.isNaN(date.getTime()) ? iso : format.format(date)
  }

/** An ISO timestamp in the locale: "Nov 21, 2026, 9:44 PM". */
export const formatDateTime = formatWith({ dateStyle: "medium", timeStyle: "short" })
/** "Nov 21, 2026" */
export const formatDate = formatWith({ dateStyle: "medium" })
/** "9:44 PM" */
export const formatTime = formatWith({ timeStyle: "short" })

/** The last four characters of an account number, as statements show it: "••••dff0". */
export const shortAccount = (accountId: string): string => `••••${accountId.slice(-4)}`

const typeNames: Record<Account["account_type"], string> = { checking: "Checking", savings: "Savings" }

/** "Checking ••••dff0" */
export const accountName = (account: Pick<Account, "id" | "account_type">): string =>
  `${typeNames[account.account_type] ?? account.account_type} ${shortAccount(account.id)}`

const plainDates = new Map<string, Intl.DateTimeFormat>()
/**
 * A calendar date as the API takes it ("2026-11-21") in the locale: "Nov 21, 2026". Read in UTC,
 * so the day never shifts with the browser's time zone.
 */
export const formatPlainDate = (date: string, locale?: string): string => {
  const key = locale ?? ""
  let format = plainDates.get(key)
  if (format === undefined) {
    format = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" })
    plainDates.set(key, format)
  }
  const parsed = new Date(`${date}T00:00:00Z`)
  return Number.isNaN(parsed.getTime()) ? date : format.format(parsed)
}

/** Today's date in UTC as "2026-11-21" (the bank's calendar for statement ranges). */
export const todayUtc = (): string => new Date().toISOString().slice(0, 10)

const countFormats = new Map<string, Intl.NumberFormat>()
/** A count or rate in the locale: 12345 → "12,345"; 0.02 → "0.02". */
export const formatCount = (value: number, locale?: string): string => {
  const key = locale ?? ""
  let format = countFormats.get(key)
  if (format === undefined) {
    format = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 })
    countFormats.set(key, format)
  }
  return format.format(value)
}
