// Purchases, ingest and jobs: the API's rules the UI checks before sending, the server's problems
// placed on the fields, and the names downloaded files get.
import { assert, describe, it } from "vitest"
import { ApiError } from "../src/api.ts"
import { fileName } from "../src/files.ts"
import { formatPlainDate, parseAmount } from "../src/format.ts"
import { problemToErrors } from "../src/forms.tsx"
import { checkJob, describeParams, emptyJob, jobField, jobLabels } from "../src/jobs.tsx"
import { checkLabel, maxDataChars, parseJsonData } from "../src/validation.ts"

const account = {
  id: "01a20011-32fd-7742-a367-3c109e5fdff0",
  user_id: "u",
  account_type: "checking" as const,
  status: "open" as const,
  balance: "10.00",
  balance_minor: 1000,
  currency: "USD",
  created_at: "2026-11-21T00:00:00Z"
}

describe("a purchase's price", () => {
  it("is read like an amount, and explained as a price", () => {
    const price = (input: string) => {
      const parsed = parseAmount(input, "en-US", "price")
      return parsed.ok ? parsed.value : parsed.message
    }
    assert.strictEqual(price("19.99"), "19.99")
    assert.strictEqual(price(""), "Enter a price.")
    assert.strictEqual(price("0"), "Enter a price greater than zero.")
    assert.strictEqual(price("-1"), "Enter a price greater than zero.")
    assert.strictEqual(price("12,50"), "Enter a price like 1,234.50.")
    assert.strictEqual(price("1.005"), "Use at most two decimals (cents).")
    assert.strictEqual(price("1000000.01"), "A price can be at most 1,000,000.00.")
  })
})

describe("an ingested record", () => {
  it("has a type and a source of 1 to 64 letters, digits, '.', '_', ':' or '-'", () => {
    assert.isUndefined(checkLabel("sensor-1", "source"))
    assert.isUndefined(checkLabel("page_view:v2.1", "type"))
    assert.strictEqual(checkLabel("", "type"), "Enter a type.")
    for (const bad of ["room temp", "-x", "x".repeat(65), "été"]) assert.isDefined(checkLabel(bad, "type"), bad)
  })

  it("carries any JSON value as data, up to the API's size", () => {
    assert.deepStrictEqual(parseJsonData('{"celsius": 21.5}'), { ok: true, value: { celsius: 21.5 } })
    assert.deepStrictEqual(parseJsonData('"opened"'), { ok: true, value: "opened" })
    assert.deepStrictEqual(parseJsonData("[1, 2]"), { ok: true, value: [1, 2] })
    assert.deepStrictEqual(parseJsonData("null"), { ok: true, value: null })
    assert.isFalse(parseJsonData("").ok)
    assert.isFalse(parseJsonData("{celsius: 21.5}").ok)
    assert.isFalse(parseJsonData("opened").ok, "text needs its quotes")
    assert.isTrue(parseJsonData(JSON.stringify("x".repeat(maxDataChars - 2))).ok)
    const big = parseJsonData(JSON.stringify("x".repeat(maxDataChars - 1)))
    assert.deepStrictEqual(big, { ok: false, message: "Use at most 16,384 characters of JSON (this is 16,385)." })
  })
})

describe("a job", () => {
  it("checks a statement's account and date range", () => {
    const draft = { ...emptyJob("account_statement"), account: account.id }
    assert.deepStrictEqual(checkJob(draft, [account], "customer"), {
      ok: true,
      spec: { kind: "account_statement", params: { account_id: account.id } },
      name: undefined
    })
    const ranged = checkJob({ ...draft, from: "2026-11-01", to: "2026-11-30", name: " Nov " }, [account], "customer")
    assert.deepStrictEqual(ranged, {
      ok: true,
      spec: { kind: "account_statement", params: { account_id: account.id, from: "2026-11-01", to: "2026-11-30" } },
      name: "Nov"
    })
    const backwards = checkJob({ ...draft, from: "2026-11-21", to: "2026-11-01" }, [account], "customer")
    assert.isFalse(backwards.ok)
    if (!backwards.ok) assert.strictEqual(backwards.errors.to, "The last day must be on or after the first day.")
    const impossible = checkJob({ ...draft, from: "2026-02-30" }, [account], "customer")
    if (impossible.ok) assert.fail("February 30th")
    assert.strictEqual(impossible.errors.from, "Enter a date like 2026-11-01.")

    const none = checkJob(emptyJob("account_statement"), [], "customer")
    if (none.ok) assert.fail("a customer without accounts")
    assert.match(none.errors.account_id ?? "", /^Open an account first/)
  })

  it("lets an admin name any account by its number, checked for shape", () => {
    const typed = { ...emptyJob("account_statement"), account: "other", accountNumber: " 12 " }
    const bad = checkJob(typed, [account], "admin")
    if (bad.ok) assert.fail("not an account number")
    assert.match(bad.errors.account_id ?? "", /^Enter the full account number/)
    const good = checkJob({ ...typed, accountNumber: account.id.toUpperCase() }, [account], "admin")
    assert.deepStrictEqual(good.ok && good.spec.params, { account_id: account.id })
    // Another account is the admin's choice only.
    const customer = checkJob(
      { ...typed, accountNumber: "0190a000-0000-7000-8000-00000000dead" },
      [account],
      "customer"
    )
    assert.deepStrictEqual(customer.ok && customer.spec.params, { account_id: account.id })
  })

  it("keeps analytics snapshots for admins, and sends a summary's type only when given", () => {
    assert.isFalse(checkJob(emptyJob("analytics_snapshot"), [], "customer").ok)
    assert.deepStrictEqual(checkJob(emptyJob("analytics_snapshot"), [], "admin"), {
      ok: true,
      spec: { kind: "analytics_snapshot", params: {} },
      name: undefined
    })
    const summary = checkJob({ ...emptyJob("ingest_summary"), type: " temp " }, [], "customer")
    assert.deepStrictEqual(summary.ok && summary.spec, { kind: "ingest_summary", params: { type: "temp" } })
    const all = checkJob(emptyJob("ingest_summary"), [], "customer")
    assert.deepStrictEqual(all.ok && all.spec, { kind: "ingest_summary", params: {} })
  })

  it("places the server's problems on the fields of nested parameters", () => {
    const problem = new ApiError({
      type: "about:blank",
      status: 422,
      title: "Unprocessable Content",
      errors: [
        { path: ["payload", "job_name"], message: "Expected a value with a length of at least 1" },
        { path: ["payload", "params", "account_id"], message: "Expected a UUID" },
        { path: ["payload", "params", "from"], message: "must be a date like 2026-11-21" }
      ]
    })
    assert.deepStrictEqual(problemToErrors(problem, { labels: jobLabels, field: jobField }), {
      fields: {
        job_name: "This field is required.",
        account_id: "Expected a UUID.",
        from: "First day must be a date like 2026-11-21."
      },
      form: undefined
    })
  })

  it("says in a few words what it works on", () => {
    const statement = { kind: "account_statement", params: { account_id: account.id, from: "2026-11-01" } }
    assert.strictEqual(describeParams(statement, [account]), "Checking ••••dff0 · from Nov 1, 2026")
    assert.strictEqual(
      describeParams({ ...statement, params: { account_id: "x-beef", from: "2026-11-01", to: "2026-11-30" } }, []),
      "Account ••••beef · Nov 1, 2026 – Nov 30, 2026"
    )
    assert.strictEqual(describeParams({ kind: "ingest_summary", params: {} }, []), "All types")
  })
})

describe("dates and file names", () => {
  it("shows a calendar date as that day, whatever the time zone", () => {
    assert.strictEqual(formatPlainDate("2026-11-01", "en-US"), "Nov 1, 2026")
    assert.strictEqual(formatPlainDate("2026-12-31", "de-DE"), "31.12.2026")
    assert.strictEqual(formatPlainDate("someday", "en-US"), "someday")
  })

  it("names a download after the job", () => {
    assert.strictEqual(fileName("November statement", "csv"), "november-statement.csv")
    assert.strictEqual(fileName("Statement of Checking ••••dff0", "csv"), "statement-of-checking-dff0.csv")
    assert.strictEqual(fileName("Nightly #1", "csv"), "nightly-1.csv")
    assert.strictEqual(fileName("Relevé d’été", "csv"), "releve-d-ete.csv")
    assert.strictEqual(fileName("…", "csv", "result"), "result.csv")
    assert.strictEqual(fileName("x".repeat(200), "csv").length, 84)
  })
})
