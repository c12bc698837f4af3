// The web UI in real Chromium against real Microbank (embedded mode, as `npm start` runs it).
// The steps build on each other (one customer's day at the bank), so they run in order.
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import type { Page } from "playwright-core"
import {
  apiCall,
  type Browser,
  buildInto,
  fieldError,
  launchBrowser,
  type Microbank,
  chromiumAvailable,
  chromiumMissing,
  screenshot,
  startMicrobank,
  tokenOf
} from "./system.ts"

const suffix = Math.random().toString(36).slice(2, 7)
const customer = { name: "Carol Tester", username: `carol${suffix}`, password: "correct horse battery" }

const accountIdIn = (url: string) => /\/accounts\/([0-9a-f-]{36})/.exec(url)?.[1] ?? assert.fail(`no account in ${url}`)
const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? "").trim()
const focused = (page: Page) =>
  page.evaluate(() => {
    const e = document.activeElement as HTMLElement | null
    return {
      tag: e?.tagName.toLowerCase() ?? "",
      name: e?.getAttribute("name") ?? "",
      text: (e?.textContent ?? "").trim(),
      outline: e ? getComputedStyle(e).outlineStyle : ""
    }
  })
/** Presses Tab until the focused element matches (at most `max` times). */
const tabTo = async (page: Page, matches: (f: Awaited<ReturnType<typeof focused>>) => boolean, max = 25) => {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab")
    const f = await focused(page)
    if (matches(f)) return f
  }
  return assert.fail("the element was not reachable with Tab")
}
/** Why the page scrolls sideways or a card spills over (nothing: neither happens), naming what sticks out. */
const overflowing = (page: Page) =>
  page.evaluate(() => {
    const root = document.documentElement
    const spilled = [...document.querySelectorAll<HTMLElement>(".card, .app-bar, .page-header")]
      .filter((e) => e.scrollWidth > e.clientWidth + 1)
      .map((e) => `<${e.tagName.toLowerCase()} class="${e.className}"> holds ${e.scrollWidth}px in ${e.clientWidth}px`)
    if (root.scrollWidth <= root.clientWidth) return spilled
    return [
      `the page is ${root.scrollWidth}px wide in ${root.clientWidth}px`,
      ...spilled,
      ...[...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > root.clientWidth + 0.5)
        .map(
          (e) =>
            `<${e.tagName.toLowerCase()} class="${e.className}"> ends at ${Math.round(e.getBoundingClientRect().right)}px`
        )
        .slice(0, 10)
    ]
  })

if (chromiumMissing !== undefined) it("needs Chromium", () => assert.fail(chromiumMissing))

describe.skipIf(!chromiumAvailable)("Microbank web UI in Chromium", () => {
  let web: Awaited<ReturnType<typeof buildInto>>
  let bank: Microbank
  let browser: Browser
  let page: Page
  let checking: string
  let savings: string

  beforeAll(async () => {
    web = await buildInto()
    bank = await startMicrobank(web.dist)
    browser = await launchBrowser()
    page = await browser.page()
  })

  afterAll(async () => {
    await browser?.close()
    await bank?.stop()
    web?.remove()
  })

  it("is served by the gateway: hashed assets cached for a year, index revalidated, app routes fall back to it", async () => {
    const index = await fetch(`${bank.base}/`)
    assert.strictEqual(index.status, 200)
    assert.strictEqual(index.headers.get("cache-control"), "no-cache")
    const html = await index.text()
    const script = /<script type="module" crossorigin src="(\/assets\/index-[\w-]+\.js)"/.exec(html)?.[1]
    assert.isDefined(script, html)
    const asset = await fetch(`${bank.base}${script}`)
    assert.strictEqual(asset.status, 200)
    assert.include(asset.headers.get("cache-control") ?? "", "immutable")
    assert.include(asset.headers.get("content-type") ?? "", "javascript")
    const deep = await fetch(`${bank.base}/accounts/01a20011-32fd-7742-a367-3c109e5fdff0`)
    assert.strictEqual(deep.status, 200)
    assert.include(await deep.text(), '<div id="root">')
  })

  it("sends a visitor to log in; registration explains mistakes next to the fields, the server's too", async () => {
    await page.goto(`${bank.base}/accounts/new`)
    await page.getByRole("heading", { name: "Log in", level: 1 }).waitFor()
    assert.strictEqual(new URL(page.url()).pathname, "/login")
    assert.strictEqual(new URL(page.url()).searchParams.get("next"), "/accounts/new")
    await screenshot(page, "01-login")

    await page.getByRole("link", { name: "Create an account" }).click()
    await page.getByRole("heading", { name: "Create your account" }).waitFor()
    await page.getByRole("button", { name: "Create profile" }).click()
    assert.strictEqual(await fieldError(page, "Full name"), "Enter your full name.")
    assert.strictEqual(await fieldError(page, "Username"), "Choose a username.")
    assert.strictEqual(await fieldError(page, "Password"), "Use at least 8 characters.")
    assert.strictEqual(await page.getByLabel("Full name").getAttribute("aria-invalid"), "true")
    assert.strictEqual((await focused(page)).name, "name", "focus moves to the first field to fix")

    await page.getByLabel("Full name").fill(customer.name)
    await page.getByLabel("Username").fill("admin") // taken: only the server knows
    await page.getByLabel("Email").fill("carol@")
    await page.getByLabel("Password").fill(customer.password)
    await page.getByRole("button", { name: "Create profile" }).click()
    assert.strictEqual(await fieldError(page, "Email"), "Enter an email address like alice@example.com.")
    await page.getByLabel("Email").fill(`${customer.username}@example.com`)
    await page.getByRole("button", { name: "Create profile" }).click()
    await page.locator('[aria-invalid="true"]').first().waitFor()
    assert.strictEqual(await fieldError(page, "Username"), "A user with this username already exists.")
    assert.strictEqual(await fieldError(page, "Email"), "")
    await screenshot(page, "02-register-errors")

    await page.getByLabel("Username").fill(customer.username)
    await page.getByRole("button", { name: "Create profile" }).click()
    // Logged in at once, and taken where they were going.
    await page.getByRole("heading", { name: "Open an account", level: 1 }).waitFor()
    assert.strictEqual(new URL(page.url()).pathname, "/accounts/new")
    // The welcome notification reaches them (as a toast, or already there when the app first asked).
    await page.locator('.bell[aria-label="Notifications, 1 unread"]').waitFor()
  })

  it("opens two accounts, deposits and transfers; balances and notifications update without a reload", async () => {
    await page.evaluate(() => ((window as any).__sameDocument = true))

    await page.getByLabel("Opening deposit").fill("1,000")
    await page.getByRole("button", { name: "Open account" }).click()
    await page.waitForURL(/\/accounts\/[0-9a-f-]{36}$/)
    checking = accountIdIn(page.url())
    await page.getByRole("heading", { name: `Checking ••••${checking.slice(-4)}`, level: 1 }).waitFor()
    assert.strictEqual(await text(page, ".flash"), `Checking ••••${checking.slice(-4)} is open with $1,000.00.`)
    assert.strictEqual(await text(page, ".balance-amount"), "$1,000.00")

    await page.getByRole("link", { name: "Accounts", exact: true }).click()
    await page.getByRole("link", { name: "Open account" }).click()
    await page.getByLabel(/^Savings/).check()
    await page.getByRole("button", { name: "Open account" }).click()
    await page.waitForURL((url) => /\/accounts\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(checking))
    savings = accountIdIn(page.url())
    assert.strictEqual(await text(page, ".balance-amount"), "$0.00")

    await page.getByRole("link", { name: "Accounts", exact: true }).click()
    await page.locator(".account-card", { hasText: `••••${savings.slice(-4)}` }).waitFor()
    assert.strictEqual(await page.locator(".account-list .account-card").count(), 2)
    assert.strictEqual(await text(page, ".total"), "Total $1,000.00")
    await screenshot(page, "03-dashboard")

    // Deposit, with a review step.
    await page.getByRole("link", { name: "Move money" }).first().click()
    await page.getByRole("link", { name: "Deposit", exact: true }).click()
    await page.getByLabel("Into account").selectOption(checking)
    await page.getByLabel("Amount").fill("250.50")
    await page.getByRole("button", { name: "Review deposit" }).click()
    assert.strictEqual(await text(page, ".review-sentence"), `Deposit $250.50 into Checking ••••${checking.slice(-4)}?`)
    await page.getByRole("button", { name: "Confirm deposit" }).click()
    await page.getByRole("heading", { name: "Deposit complete" }).waitFor()
    assert.include(await text(page, ".summary"), "New balance $1,250.50")

    // Transfer between the two accounts.
    await page.getByRole("link", { name: "Move money" }).first().click()
    await page.getByRole("heading", { name: "Transfer", level: 1 }).waitFor()
    await page.getByLabel("From account").selectOption(checking)
    await page.getByLabel("To account").selectOption(savings)
    await page.getByLabel("Amount").fill("100")
    await page.getByLabel(/^Description/).fill("Rent share")
    await page.getByRole("button", { name: "Review transfer" }).click()
    assert.strictEqual(
      await text(page, ".review-sentence"),
      `Transfer $100.00 from Checking ••••${checking.slice(-4)} to Savings ••••${savings.slice(-4)}?`
    )
    await screenshot(page, "04-transfer-review")
    await page.getByRole("button", { name: "Confirm transfer" }).click()
    await page.getByRole("heading", { name: "Transfer complete" }).waitFor()
    const summary = await text(page, ".summary")
    assert.include(summary, `Checking ••••${checking.slice(-4)}New balance $1,150.50`)
    assert.include(summary, `Savings ••••${savings.slice(-4)}New balance $100.00`)
    await screenshot(page, "05-transfer-done")

    // The notification arrives by itself.
    await page.locator(".toasts").getByText("Transfer of $100.00 to account").waitFor()
    assert.match((await page.locator(".bell").getAttribute("aria-label")) ?? "", /^Notifications, \d+ unread$/)

    await page.getByRole("link", { name: "Accounts", exact: true }).click()
    await page.locator(".account-card", { hasText: "$1,150.50" }).waitFor()
    await page.locator(".account-card", { hasText: "$100.00" }).waitFor()
    assert.strictEqual(await text(page, ".total"), "Total $1,250.50")

    // Money moved elsewhere (another device, the API) shows up here without a reload.
    await apiCall(bank.base, await tokenOf(page), "POST", `/api/accounts/${savings}/deposits`, { amount: "49.50" })
    await page
      .locator(".account-card", { hasText: `••••${savings.slice(-4)}` })
      .getByText("$149.50")
      .waitFor()
    await page.locator(".activity").getByText("Deposit of $49.50 completed").waitFor()
    assert.isTrue(await page.evaluate(() => (window as any).__sameDocument === true), "the page never reloaded")

    await page.locator(".bell").click()
    await page.getByRole("heading", { name: "Notifications", level: 1 }).waitFor()
    await page.locator(".notification-list").getByText("Transfer of $100.00 to account").waitFor()
    await page.locator('.bell[aria-label="Notifications, none unread"]').waitFor()
    await screenshot(page, "06-notifications")
  })

  it("keeps the token in sessionStorage only", async () => {
    const token = await tokenOf(page)
    assert.isAbove(token.length, 20)
    const local = await page.evaluate(() => Object.values(localStorage).join("\n"))
    assert.notInclude(local, token)
  })

  it("pages through history with the next_before cursor", async () => {
    const token = await tokenOf(page)
    for (let i = 1; i <= 11; i++) {
      await apiCall(bank.base, token, "POST", `/api/accounts/${savings}/deposits`, { amount: `${i}.00` })
    }
    // savings: transfer in, 49.50, then 1.00 … 11.00 — 13 transactions, 10 on the first page.
    await page.goto(`${bank.base}/accounts/${savings}`)
    await page.getByText("+$11.00").waitFor()
    assert.strictEqual(await page.locator(".history tbody tr").count(), 10)
    assert.strictEqual(await text(page, ".balance-amount"), "$215.50")
    await screenshot(page, "07-history", true)

    await page.getByRole("button", { name: "Older →" }).click()
    await page.getByText("Page 2").waitFor()
    await page.getByText(`Transfer from ••••${checking.slice(-4)}`).waitFor()
    assert.strictEqual(await page.locator(".history tbody tr").count(), 3)
    assert.isTrue(await page.getByRole("button", { name: "Older →" }).isDisabled())

    await page.getByRole("button", { name: "← Newer" }).click()
    await page.getByText("+$11.00").waitFor()
    assert.strictEqual(await page.locator(".history tbody tr").count(), 10)
    assert.isTrue(await page.getByRole("button", { name: "← Newer" }).isDisabled())
  })

  it("refuses an over-draft with the bank's message next to the amount; explains malformed amounts", async () => {
    await page.getByRole("link", { name: "Withdraw", exact: true }).click()
    await page.getByRole("heading", { name: "Withdraw", level: 1 }).waitFor()
    assert.strictEqual(await page.getByLabel("From account").inputValue(), savings)

    await page.getByLabel("Amount").fill("12,50") // en-US: a misplaced thousands separator, not 12.50
    await page.getByRole("button", { name: "Review withdraw" }).click()
    assert.strictEqual(await fieldError(page, "Amount"), "Enter an amount like 1,234.50.")
    await page.getByLabel("Amount").fill("0")
    await page.getByRole("button", { name: "Review withdraw" }).click()
    assert.strictEqual(await fieldError(page, "Amount"), "Enter an amount greater than zero.")

    // The bank, not the page, decides whether the money is there.
    await page.getByLabel("Amount").fill("5000")
    await page.getByRole("button", { name: "Review withdraw" }).click()
    await page.getByRole("button", { name: "Confirm withdraw" }).click()
    await page.getByLabel("Amount").and(page.locator('[aria-invalid="true"]')).waitFor()
    assert.strictEqual(
      await fieldError(page, "Amount"),
      "Insufficient funds: the balance is $215.50 and this needs $5,000.00."
    )
    assert.strictEqual((await focused(page)).name, "amount")
    await screenshot(page, "08-overdraft")
    const account = await apiCall(bank.base, await tokenOf(page), "GET", `/api/accounts/${savings}`)
    assert.strictEqual(account.balance, "215.50", "nothing was withdrawn")
  })

  it("refuses a wrong password with a message; an ended session returns to login saying so", async () => {
    await page.getByRole("button", { name: "Log out" }).click()
    await page.getByRole("heading", { name: "Log in", level: 1 }).waitFor()
    assert.strictEqual(await text(page, ".flash"), "You have logged out.")
    assert.isNull(await page.evaluate(() => sessionStorage.getItem("microbank.session")))

    await page.getByLabel("Username").fill(customer.username)
    await page.getByLabel("Password").fill("not my password")
    await page.getByRole("button", { name: "Log in" }).click()
    await page.getByRole("alert").getByText("Invalid username or password.").waitFor()
    assert.strictEqual(await page.getByLabel("Password").inputValue(), "")
    await screenshot(page, "09-login-wrong-password")

    await page.getByLabel("Password").fill(customer.password)
    await page.getByRole("button", { name: "Log in" }).click()
    await page.getByRole("heading", { name: "Accounts", level: 1 }).waitFor()

    // A token the server no longer accepts (here: forged) → 401 → back to login, with where they were.
    await page.evaluate(() =>
      sessionStorage.setItem(
        "microbank.session",
        JSON.stringify({ token: "eyJhbGciOiJIUzI1NiJ9.e30.forged", expiresAt: Date.now() + 600_000 })
      )
    )
    await page.goto(`${bank.base}/notifications`)
    await page.getByRole("heading", { name: "Log in", level: 1 }).waitFor()
    assert.strictEqual(await text(page, ".flash"), "Your session has ended. Please log in again.")
    assert.strictEqual(new URL(page.url()).searchParams.get("next"), "/notifications")
    await page.getByLabel("Username").fill(customer.username)
    await page.getByLabel("Password").fill(customer.password)
    await page.getByRole("button", { name: "Log in" }).click()
    await page.getByRole("heading", { name: "Notifications", level: 1 }).waitFor()
  })

  it("shows an admin every user; the admin opens an account for a customer", async () => {
    const admin = await browser.page()
    await admin.goto(`${bank.base}/login`)
    await admin.getByLabel("Username").fill("admin")
    await admin.getByLabel("Password").fill(bank.adminPassword)
    await admin.getByRole("button", { name: "Log in" }).click()
    await admin.getByRole("heading", { name: "Accounts", level: 1 }).waitFor()

    await admin.getByRole("link", { name: "Users", exact: true }).click()
    await admin.getByRole("heading", { name: "Users", level: 1 }).waitFor()
    const row = admin.locator("table.users tbody tr", { hasText: customer.username })
    await row.waitFor()
    assert.include(await row.textContent(), `${customer.username}@example.com`)
    assert.isAtLeast(await admin.locator("table.users tbody tr").count(), 2, "the admin and the customer")
    await screenshot(admin, "10-admin-users")

    await row.getByRole("link", { name: customer.name }).click()
    await admin.getByRole("heading", { name: customer.name, level: 1 }).waitFor()
    await admin.locator(".account-card", { hasText: "$1,150.50" }).waitFor()
    assert.strictEqual(await admin.locator(".account-card").count(), 2)
    await admin.getByRole("link", { name: `Open account for ${customer.name}` }).click()
    await admin.getByText(`For ${customer.name} (${customer.username})`).waitFor()
    await admin.getByLabel(/^Savings/).check()
    await admin.getByLabel("Opening deposit").fill("20")
    await admin.getByRole("button", { name: "Open account" }).click()
    await admin.getByRole("heading", { name: customer.name, level: 1 }).waitFor()
    assert.match(await text(admin, ".flash"), /^Savings ••••[0-9a-f]{4} is open with \$20\.00\.$/)
    await admin.locator(".account-card", { hasText: "$20.00" }).waitFor()
    assert.strictEqual(await admin.locator(".account-card").count(), 3)
    await screenshot(admin, "11-admin-user")
    await admin.close()

    // A customer has no such screens.
    assert.strictEqual(await page.getByRole("link", { name: "Users", exact: true }).count(), 0)
    await page.goto(`${bank.base}/users`)
    await page.getByText("Only administrators can see other users.").waitFor()
  })

  it("buys: the price is checked here and by the server; the purchase is pending, then in the history without a reload", async () => {
    await page.evaluate(() => ((window as any).__sameDocument = true))
    await page.getByRole("link", { name: "Purchases", exact: true }).click()
    await page.getByRole("heading", { name: "Purchases", level: 1 }).waitFor()
    assert.strictEqual((await focused(page)).text, "Purchases", "focus starts at the new screen's heading")
    await page.getByText("No purchases yet.").waitFor()

    const buy = page.getByRole("button", { name: "Buy", exact: true })
    await buy.click()
    assert.strictEqual(await fieldError(page, "Price"), "Enter a price.")
    assert.strictEqual((await focused(page)).name, "price")
    await page.getByLabel("Price").fill("12,50") // en-US: not 12.50
    await buy.click()
    assert.strictEqual(await fieldError(page, "Price"), "Enter a price like 1,234.50.")
    await page.getByLabel("Price").fill("-3")
    await buy.click()
    assert.strictEqual(await fieldError(page, "Price"), "Enter a price greater than zero.")

    // The page never sends a price the bank refuses; to see the bank's own answer land next to the
    // field, this one request is altered on its way (three decimals) and answered by the real server.
    await page.route("**/api/v1/buy", (route) =>
      route.continue({
        postData: route
          .request()
          .postData()!
          .replace(/"price":"[^"]*"/, '"price":"4.999"')
      })
    )
    await page.getByLabel("Price").fill("5")
    await buy.click()
    await page.getByLabel("Price").and(page.locator('[aria-invalid="true"]')).waitFor()
    assert.strictEqual(
      await fieldError(page, "Price"),
      'Price must be a positive decimal with at most two decimals, like "12.50".'
    )
    assert.strictEqual((await focused(page)).name, "price")
    await page.unroute("**/api/v1/buy")

    // The history is held back (a slow consumer): the purchase shows as pending meanwhile.
    let holding = true
    const held: Array<() => Promise<void>> = []
    await page.route("**/api/v1/purchases/**", (route) => {
      if (holding) held.push(() => route.continue())
      else void route.continue()
    })
    await page.getByLabel("Price").fill("19.99")
    await buy.click()
    await page.getByText("Purchase of $19.99 accepted. It shows in your history once it is stored.").waitFor()
    const pending = page.locator(".purchases tbody tr", { hasText: "Pending" })
    await pending.getByText("$19.99").waitFor()
    assert.strictEqual(await page.getByLabel("Price").inputValue(), "")
    assert.strictEqual(await text(page, ".live-note"), "1 purchase on its way…")
    await screenshot(page, "18-purchase-pending")
    assert.isAbove(held.length, 0, "the history was asked for again")
    holding = false
    for (const release of held) await release()
    await page.unroute("**/api/v1/purchases/**")

    const recorded = page.locator(".purchases tbody tr", { hasText: "Recorded" })
    await recorded.getByText("$19.99").waitFor()
    await pending.waitFor({ state: "detached" })
    assert.strictEqual(await text(page, "#purchases-heading + .total"), "1 purchase · $19.99")
    assert.strictEqual(await text(page, ".live-note"), "")
    await screenshot(page, "19-purchases")
    const me = await apiCall(bank.base, await tokenOf(page), "GET", "/api/me")
    const stored = await apiCall(bank.base, await tokenOf(page), "GET", `/api/v1/purchases/${me.id}`)
    assert.deepStrictEqual(
      stored.map((p: { price_minor: number }) => p.price_minor),
      [1999],
      "one purchase stored, at 19.99; the refused one wrote nothing"
    )
    assert.isTrue(await page.evaluate(() => (window as any).__sameDocument === true), "the page never reloaded")
  })

  it("sends a record: waiting, then stored and counted in the stats; recent records filter by type", async () => {
    const type = `temp${suffix}`
    const other = `door${suffix}`
    await page.getByRole("link", { name: "Ingest", exact: true }).click()
    await page.getByRole("heading", { name: "Ingest", level: 1 }).waitFor()
    assert.strictEqual(await page.getByRole("heading", { name: "Analytics" }).count(), 0, "admins only")

    const send = page.getByRole("button", { name: "Send record" })
    await page.getByLabel("Source").fill("")
    await send.click()
    assert.strictEqual(await fieldError(page, "Type"), "Enter a type.")
    assert.strictEqual(await fieldError(page, "Source"), "Enter a source.")
    assert.strictEqual(await fieldError(page, "Data"), 'Enter the data as JSON, like {"temperature": 21.5}.')
    await page.getByLabel("Type", { exact: true }).fill("room temp")
    await page.getByLabel("Source").fill("sensor-1")
    await page.getByLabel("Data").fill("{celsius: 21.5}")
    await send.click()
    assert.strictEqual(
      await fieldError(page, "Type"),
      "Use 1 to 64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit."
    )
    assert.match(await fieldError(page, "Data"), /^This is not valid JSON\./)
    assert.strictEqual((await focused(page)).name, "type")

    await page.getByLabel("Type", { exact: true }).fill(type)
    await page.getByLabel("Data").fill('{"celsius": 21.5}')
    await send.click()
    await page.getByText(/^Record accepted at .+\. It is listed below once the worker stores it\.$/).waitFor()
    const row = page.locator(".records tbody tr", { hasText: type })
    await row.filter({ hasNotText: "Waiting" }).getByText('{"celsius":21.5}').waitFor()
    await page
      .locator(".counts", { hasText: "By type" })
      .getByRole("row", { name: `${type} 1` })
      .waitFor()
    await page
      .locator(".counts", { hasText: "By source" })
      .getByRole("row", { name: /^sensor-1 \d+$/ })
      .waitFor()
    const stats = await apiCall(bank.base, await tokenOf(page), "GET", "/api/v1/ingest/stats")
    assert.strictEqual(await text(page, ".figures > div:first-child dd"), stats.total.toLocaleString("en-US"))

    // Filtered by its type, in the address too; another type's record stays out of the list.
    await page.getByRole("combobox", { name: "Show" }).selectOption(type)
    await page.waitForURL((url) => url.searchParams.get("type") === type)
    await page.getByLabel("Type", { exact: true }).fill(other)
    await page.getByLabel("Data").fill('"opened"')
    await send.click()
    await page
      .locator(".counts", { hasText: "By type" })
      .getByRole("row", { name: `${other} 1` })
      .waitFor()
    await page.locator(".records tbody tr").first().waitFor()
    assert.deepStrictEqual(
      (await page.locator(".records tbody tr .tx-type").allTextContents()).map((t) => t.trim()),
      [type],
      "only records of the chosen type"
    )
    await screenshot(page, "20-ingest", true)
    await page.getByRole("combobox", { name: "Show" }).selectOption("")
    await page.locator(".records tbody tr", { hasText: other }).getByText('"opened"').waitFor()
    assert.strictEqual(new URL(page.url()).search, "")
  })

  it("starts an account statement job, follows it to the end and downloads its CSV with the transactions", async () => {
    await page.evaluate(() => ((window as any).__sameDocument = true))
    await page.getByRole("link", { name: "Jobs", exact: true }).click()
    await page.getByRole("heading", { name: "Jobs", level: 1 }).waitFor()
    await page.getByText("No jobs yet.").waitFor()
    assert.strictEqual(await page.getByLabel(/^Analytics snapshot/).count(), 0, "admins only")

    await page.getByLabel(/^Account statement/).check()
    await page.getByLabel("Account", { exact: true }).selectOption(checking)
    await page.getByLabel(/^First day/).fill("2026-11-21")
    await page.getByLabel(/^Last day/).fill("2026-11-01")
    const start = page.getByRole("button", { name: "Start job" })
    await start.click()
    assert.strictEqual(await fieldError(page, /^Last day/), "The last day must be on or after the first day.")
    assert.strictEqual((await focused(page)).name, "to")

    await page.getByLabel(/^First day/).fill("")
    await page.getByLabel(/^Last day/).fill("")
    await page.getByLabel(/^Name/).fill("November statement")
    await start.click()
    await page.getByText("Started “November statement”. It is listed under Your jobs.").waitFor()
    const job = page.locator(".job-list li", { hasText: "November statement" })
    await job.getByText(`Account statement · Checking ••••${checking.slice(-4)} · all transactions`).waitFor()
    // Queued, running, done: the list follows by itself.
    await job.locator(".badge", { hasText: "Done" }).waitFor()
    await screenshot(page, "21-jobs", true)

    const download = page.waitForEvent("download")
    await job.getByRole("button", { name: "Download November statement as CSV" }).click()
    const file = await download
    assert.strictEqual(file.suggestedFilename(), "november-statement.csv")
    const csv = readFileSync((await file.path())!, "utf8")
      .trimEnd()
      .split("\r\n")
    assert.deepStrictEqual(csv.slice(0, 1), ["date,type,amount,balance_after,description"])
    assert.deepStrictEqual(
      csv.slice(1).map((line) => line.split(",").slice(1).join(",")),
      ["transfer_out,-100.00,1150.50,Rent share", "deposit,250.50,1250.50,", "deposit,1000.00,1000.00,Initial deposit"],
      "the account's transactions, newest first"
    )
    assert.isTrue(await page.evaluate(() => (window as any).__sameDocument === true), "the page never reloaded")
  })

  it("an admin's pipeline whose step fails stops there, says why, and skips the rest; admins see the analytics", async () => {
    const admin = await browser.page()
    await admin.goto(`${bank.base}/login?next=/pipelines/new`)
    await admin.getByLabel("Username").fill("admin")
    await admin.getByLabel("Password").fill(bank.adminPassword)
    await admin.getByRole("button", { name: "Log in" }).click()
    await admin.getByRole("heading", { name: "New pipeline", level: 1 }).waitFor()

    const startPipeline = admin.getByRole("button", { name: "Start pipeline" })
    await startPipeline.click()
    assert.strictEqual(await fieldError(admin, "Pipeline name"), "Name the pipeline.")
    assert.strictEqual((await focused(admin)).name, "pipeline_name")
    await admin.getByLabel("Pipeline name").fill("Nightly")

    await admin.getByRole("button", { name: "Add step" }).click()
    assert.match((await focused(admin)).name, /^step\d+-kind$/, "the new step takes focus")
    const second = admin.locator("fieldset", { hasText: "Step 2" })
    assert.strictEqual(await second.getByLabel("Kind").inputValue(), "account_statement")
    // The admin has no accounts of their own: the number is typed in (here: an account that does not exist).
    await second.getByLabel("Account number").fill("12")
    await admin.getByRole("button", { name: "Add step" }).click()
    await admin.locator("fieldset", { hasText: "Step 3" }).getByLabel("Kind").selectOption("analytics_snapshot")
    await startPipeline.click()
    assert.strictEqual(
      await fieldError(admin, second.getByLabel("Account number")),
      "Enter the full account number, like 01a20011-32fd-7742-a367-3c109e5fdff0."
    )
    await second.getByLabel("Account number").fill("0190a000-0000-7000-8000-00000000dead")
    await screenshot(admin, "22-pipeline-new", true)
    await startPipeline.click()

    await admin.getByRole("heading", { name: "Nightly", level: 1 }).waitFor()
    assert.strictEqual(await text(admin, ".flash"), "Pipeline “Nightly” started.")
    const summary = admin.locator(".pipeline-summary.notice-error")
    await summary.waitFor()
    assert.strictEqual(
      (await summary.textContent())?.trim(),
      "Step 2 (account_statement) failed: the account does not exist or is not yours. The step after it was not run."
    )
    const steps = admin.locator(".steps > li")
    assert.deepStrictEqual(
      await steps.locator(".badge").allTextContents(),
      ["Done", "Failed", "Skipped"],
      "each step's status"
    )
    assert.strictEqual(
      await text(admin, ".steps > li:nth-child(2) .job-error"),
      "The account does not exist or is not yours."
    )
    assert.strictEqual(await text(admin, ".steps > li:nth-child(3) .job-state"), "Not run: an earlier step failed.")
    await steps.nth(0).getByRole("button", { name: "Download Nightly #1 as CSV" }).waitFor()
    assert.strictEqual(await steps.nth(2).getByRole("button").count(), 0, "nothing to download from a skipped step")
    await screenshot(admin, "23-pipeline-failed", true)

    // Listed among the jobs, with the reason.
    await admin.getByRole("link", { name: "All jobs" }).click()
    const listed = admin.locator(".pipeline-item", { hasText: "Nightly" })
    await listed.getByText("Step 2 (account_statement) failed").waitFor()
    assert.include(await listed.textContent(), "1 of 3 steps done")

    // The analytics summary, each number from its own service.
    await admin.getByRole("link", { name: "Ingest", exact: true }).click()
    const analytics = admin.locator("section.analytics")
    await analytics.locator(".figures").waitFor()
    const summaryApi = await apiCall(bank.base, await tokenOf(admin), "GET", "/api/v1/analytics/summary")
    const figure = (name: string) => analytics.locator(".figures > div", { hasText: name }).locator("dd")
    assert.strictEqual(await figure("Users").textContent(), String(summaryApi.users))
    assert.strictEqual(await figure("Purchases").textContent(), String(summaryApi.purchases))
    assert.strictEqual(await figure("Ingested records").textContent(), String(summaryApi.ingested_records))
    await screenshot(admin, "24-admin-analytics")
    await admin.close()
  })

  it("works with the keyboard alone: log in, navigate, transfer, confirm — with visible focus", async () => {
    const kb = await browser.page()
    await kb.goto(`${bank.base}/login`)
    await kb.getByRole("heading", { name: "Log in", level: 1 }).waitFor()
    assert.strictEqual((await tabTo(kb, (f) => f.tag === "input")).name, "username")
    await kb.keyboard.type(customer.username)
    await kb.keyboard.press("Tab")
    assert.strictEqual((await focused(kb)).name, "password")
    await kb.keyboard.type(customer.password)
    await kb.keyboard.press("Enter")
    await kb.getByRole("heading", { name: "Accounts", level: 1 }).waitFor()
    assert.strictEqual((await focused(kb)).text, "Accounts", "after login, focus is on the first screen")

    await kb.goto(`${bank.base}/`)
    await kb.getByRole("heading", { name: "Accounts", level: 1 }).waitFor()
    await kb.keyboard.press("Tab")
    const skip = await focused(kb)
    assert.strictEqual(skip.text, "Skip to content", "the first stop skips the navigation")
    assert.strictEqual(skip.outline, "solid", "focus is visible")

    const nav = await tabTo(kb, (f) => f.text === "Move money")
    assert.strictEqual(nav.outline, "solid")
    await kb.keyboard.press("Enter")
    await kb.getByRole("heading", { name: "Transfer", level: 1 }).waitFor()
    assert.strictEqual((await focused(kb)).text, "Transfer", "focus starts at the new screen's heading")

    await tabTo(kb, (f) => f.name === "account")
    await kb.keyboard.press("Tab")
    assert.strictEqual((await focused(kb)).name, "to")
    await kb.keyboard.press("Tab")
    assert.strictEqual((await focused(kb)).name, "amount")
    await kb.keyboard.type("10")
    await kb.keyboard.press("Enter")
    await kb.getByRole("heading", { name: "Check and confirm" }).waitFor()
    assert.strictEqual((await focused(kb)).text, "Check and confirm")
    const confirm = await tabTo(kb, (f) => f.tag === "button")
    assert.strictEqual(confirm.text, "Confirm transfer")
    assert.strictEqual(confirm.outline, "solid")
    await screenshot(kb, "12-keyboard-focus")
    await kb.keyboard.press("Enter")
    await kb.getByRole("heading", { name: "Transfer complete" }).waitFor()
    assert.strictEqual((await focused(kb)).text, "Transfer complete")
    assert.include(await text(kb, ".summary"), "New balance $1,140.50")
    await kb.close()
  })

  it("fits a phone screen, and content arriving does not shift the layout", async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    for (const [path, name, heading] of [
      ["/", "13-phone-dashboard", "Accounts"],
      [`/accounts/${savings}`, "14-phone-account", `Savings ••••${savings.slice(-4)}`],
      ["/transfer", "15-phone-transfer", "Transfer"],
      ["/purchases", "25-phone-purchases", "Purchases"],
      ["/ingest", "26-phone-ingest", "Ingest"],
      ["/jobs", "27-phone-jobs", "Jobs"]
    ] as const) {
      await page.goto(`${bank.base}${path}`)
      await page.getByRole("heading", { name: heading, level: 1 }).waitFor()
      await page.locator(".skeleton, .account-card-skeleton").first().waitFor({ state: "detached" })
      assert.deepStrictEqual(await overflowing(page), [], `${path} is wider than 390px`)
      await screenshot(page, name, true)
      await page.setViewportSize({ width: 320, height: 640 }) // the narrowest phones in use
      assert.deepStrictEqual(await overflowing(page), [], `${path} is wider than 320px`)
      await page.setViewportSize({ width: 390, height: 844 })
    }

    // Cumulative layout shift while the dashboard loads (Chromium's layout-shift entries).
    await page.setViewportSize({ width: 1280, height: 860 })
    await page.addInitScript(() => {
      ;(window as any).__cls = 0
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as Array<any>)
          if (!entry.hadRecentInput) (window as any).__cls += entry.value
      }).observe({ type: "layout-shift", buffered: true })
    })
    await page.goto(`${bank.base}/`)
    await page.locator(".account-list a.account-card").nth(2).waitFor()
    await page.locator(".activity li").first().waitFor()
    const cls = await page.evaluate(() => (window as any).__cls as number)
    assert.isBelow(cls, 0.1, "cumulative layout shift (0.1 is the 'good' threshold)")
  })

  it("transfers to someone else's account by its number; an unknown number is explained next to it", async () => {
    const dave = { username: `dave${suffix}`, password: "another horse battery" }
    const registered = await fetch(`${bank.base}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...dave, name: "Dave Tester", email: `${dave.username}@example.com` })
    })
    assert.strictEqual(registered.status, 201)
    const login = await fetch(`${bank.base}/api/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(dave)
    })
    const daveToken = ((await login.json()) as { access_token: string }).access_token
    const daves = await apiCall(bank.base, daveToken, "POST", "/api/accounts", { account_type: "checking" })

    await page.goto(`${bank.base}/transfer`)
    await page.getByLabel("From account").selectOption(checking)
    await page.getByLabel("To account").selectOption("other")
    await page.getByLabel("Their account number").fill("00000000-0000-4000-8000-000000000000")
    await page.getByLabel("Amount").fill("5")
    await page.getByRole("button", { name: "Review transfer" }).click()
    assert.strictEqual(
      await text(page, ".review-sentence"),
      `Transfer $5.00 from Checking ••••${checking.slice(-4)} to account ••••0000?`
    )
    await page.getByRole("button", { name: "Confirm transfer" }).click()
    await page.getByLabel("Their account number").and(page.locator('[aria-invalid="true"]')).waitFor()
    assert.strictEqual(await fieldError(page, "Their account number"), "No open account has this number.")

    await page.getByLabel("Their account number").fill(daves.id)
    await page.getByRole("button", { name: "Review transfer" }).click()
    await page.getByRole("button", { name: "Confirm transfer" }).click()
    await page.getByRole("heading", { name: "Transfer complete" }).waitFor()
    assert.strictEqual(await text(page, ".summary"), `Checking ••••${checking.slice(-4)}New balance $1,135.50`)
    const received = await apiCall(bank.base, daveToken, "GET", `/api/accounts/${daves.id}`)
    assert.strictEqual(received.balance, "5.00")
  })

  it("closes an account only after confirming, and only once it is empty", async () => {
    const token = await tokenOf(page)
    const mine = (await apiCall(bank.base, token, "GET", "/api/accounts")) as Array<{ id: string; balance: string }>
    const extra = mine.find((a) => a.id !== checking && a.id !== savings)!
    assert.strictEqual(extra.balance, "20.00", "the account the admin opened")
    await page.goto(`${bank.base}/accounts/${extra.id}`)
    await page.getByText("$20.00").first().waitFor()

    await page.getByRole("button", { name: "Close account" }).click()
    const dialog = page.getByRole("dialog")
    await dialog.waitFor()
    assert.strictEqual((await focused(page)).text, "Cancel", "the safe choice has focus")
    await dialog.getByRole("button", { name: "Close account" }).click()
    await dialog.getByRole("alert").getByText("Withdraw or transfer the balance of 20.00").waitFor()
    await screenshot(page, "16-close-refused")
    await page.keyboard.press("Escape")
    await dialog.waitFor({ state: "hidden" })

    // Emptied from elsewhere: the page follows by itself, then the account closes.
    await apiCall(bank.base, token, "POST", `/api/accounts/${extra.id}/withdrawals`, { amount: "20.00" })
    await page.locator(".balance-amount", { hasText: "$0.00" }).waitFor()
    await page.getByRole("button", { name: "Close account" }).click()
    await dialog.getByRole("button", { name: "Close account" }).click()
    await page.locator(".flash", { hasText: `Savings ••••${extra.id.slice(-4)} is closed.` }).waitFor()
    await page.locator(".badge", { hasText: "Closed" }).waitFor()
    assert.strictEqual(await page.getByRole("link", { name: "Deposit", exact: true }).count(), 0)
  })

  it("says so when Microbank cannot be reached, and offers to try again", async () => {
    await page.goto(`${bank.base}/`)
    await page.getByRole("heading", { name: "Accounts", level: 1 }).waitFor()
    await page.locator(".account-list a.account-card").first().waitFor()
    // Every chunk of the build has arrived (the other screens are fetched once the browser is idle).
    const chunks = readdirSync(join(web.dist, "assets"))
      .filter((f) => f.endsWith(".js"))
      .map((f) => `/assets/${f}`)
    assert.isAbove(chunks.length, 1, "the screens of their own chunk")
    await page.waitForFunction(
      (files) =>
        files.every((f) =>
          performance
            .getEntriesByType("resource")
            .some((e) => new URL(e.name).pathname === f && (e as PerformanceResourceTiming).responseEnd > 0)
        ),
      chunks
    )
    await bank.stop()

    await page.getByRole("link", { name: "Move money" }).first().click()
    const notice = page
      .getByRole("alert")
      .filter({ hasText: "Cannot reach Microbank. Check your connection and try again." })
    await notice.waitFor()
    await notice.getByRole("button", { name: "Try again" }).waitFor()
    await screenshot(page, "17-unreachable")
    // Screens of their own chunk were fetched after sign-in: they open, and say what failed.
    await page.getByRole("link", { name: "Jobs", exact: true }).click()
    await page.getByRole("heading", { name: "Jobs", level: 1 }).waitFor()
    await page.getByRole("alert").filter({ hasText: "Cannot reach Microbank." }).first().waitFor()
    await page.locator(".bell").click()
    await page.getByText("Live updates paused: Cannot reach Microbank.").waitFor()
  })

  it("had no uncaught errors in any page", () => {
    assert.deepStrictEqual(browser.errors, [])
  })
})
