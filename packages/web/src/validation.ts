/**
 * The same rules the API applies (packages/contracts/src/Users.ts), checked before sending so
 * most mistakes are explained at once; the server still decides, and its answers are shown
 * next to the fields too.
 */

export const usernameRule = /^[a-z0-9][a-z0-9._-]{2,31}$/
const emailRule = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
const phoneRule = /^\+?[0-9][0-9 ().-]{5,20}[0-9]$/
const uuidRule = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export const checkUsername = (value: string): string | undefined =>
  value === ""
    ? "Choose a username."
    : usernameRule.test(value)
      ? undefined
      : "Use 3 to 32 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit."

export const checkName = (value: string): string | undefined =>
  value.trim() === "" ? "Enter your full name." : value.length > 100 ? "Use at most 100 characters." : undefined

export const checkEmail = (value: string): string | undefined =>
  value === ""
    ? "Enter an email address."
    : value.length > 254 || !emailRule.test(value)
      ? "Enter an email address like alice@example.com."
      : undefined

export const checkPhone = (value: string): string | undefined => {
  if (value === "") return undefined
  const digits = value.replace(/[^0-9]/g, "").length
  return phoneRule.test(value) && digits >= 7 && digits <= 15
    ? undefined
    : "Enter a phone number like +1 555 010 0199 (7 to 15 digits)."
}

export const checkPassword = (value: string): string | undefined =>
  value.length < 8 ? "Use at least 8 characters." : value.length > 128 ? "Use at most 128 characters." : undefined

export const checkAccountNumber = (value: string): string | undefined =>
  value.trim() === ""
    ? "Enter the account number."
    : uuidRule.test(value.trim())
      ? undefined
      : "Enter the full account number, like 01a20011-32fd-7742-a367-3c109e5fdff0."

export const checkDescription = (value: string): string | undefined =>
  value.length > 140 ? `Use at most 140 characters (now ${value.length}).` : undefined

/** packages/contracts/src/Ingest.ts: a record's `type` and `source`. */
export const labelRule = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/

export const checkLabel = (value: string, what: string): string | undefined =>
  value === ""
    ? `Enter a ${what}.`
    : labelRule.test(value)
      ? undefined
      : "Use 1 to 64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit."

/** The most JSON one record's `data` may hold (its serialized length). */
export const maxDataChars = 16 * 1024

export type ParsedJson =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string }

/** A record's data: any JSON value (an object, an array, a string in quotes, a number...). */
export const parseJsonData = (text: string): ParsedJson => {
  if (text.trim() === "") return { ok: false, message: 'Enter the data as JSON, like {"temperature": 21.5}.' }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return {
      ok: false,
      message: 'This is not valid JSON. Objects look like {"temperature": 21.5}; text goes in double quotes.'
    }
  }
  const size = JSON.stringify(value).length
  if (size > maxDataChars)
    return {
      ok: false,
      message: `Use at most ${maxDataChars.toLocaleString()} characters of JSON (this is ${size.toLocaleString()}).`
    }
  return { ok: true, value }
}
