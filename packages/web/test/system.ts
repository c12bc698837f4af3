// The real system for browser tests: the UI built into a temporary directory, Microbank started
// in embedded mode (`npm start`'s entry point) serving it, and Debian's Chromium driven by
// playwright-core. With REQUIRE_REAL_SERVICES=1 a missing Chromium fails the suite.
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core"
import { buildWeb, webRoot } from "../scripts/ensure-built.ts"

export const requireReal = process.env.REQUIRE_REAL_SERVICES === "1"
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium"
export const chromiumAvailable = existsSync(chromiumPath)

/** Why browser suites cannot run here and must fail (REQUIRE_REAL_SERVICES=1), if they cannot. */
export const chromiumMissing =
  !chromiumAvailable && requireReal
    ? `Chromium is not installed at ${chromiumPath} (apt-get install chromium) and REQUIRE_REAL_SERVICES=1`
    : undefined

export const screenshots = join(webRoot, "screenshots")

/** Builds the UI exactly as `npm run build` does, into a fresh directory. */
export const buildInto = async (): Promise<{ readonly dist: string; readonly remove: () => void }> => {
  const dir = mkdtempSync(join(tmpdir(), "microbank-web-"))
  const dist = join(dir, "dist")
  await buildWeb(webRoot, dist)
  return { dist, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

const mainEmbedded = fileURLToPath(new URL("../../microbank/src/main-embedded.ts", import.meta.url))

export interface Microbank {
  readonly base: string
  readonly adminPassword: string
  readonly output: () => string
  readonly stop: () => Promise<void>
}

/** Starts Microbank in embedded mode on a free port with a fresh data directory, serving `webDist`. */
export const startMicrobank = async (webDist: string): Promise<Microbank> => {
  const dataDir = mkdtempSync(join(tmpdir(), "microbank-web-data-"))
  const port = await freePort()
  let output = ""
  const child: ChildProcess = spawn(process.execPath, [mainEmbedded], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      WEB_ROOT: webDist,
      PASSWORD_SCRYPT_LOG_N: "14",
      AUTH_RATE_LIMIT_PER_MINUTE: "100000",
      LOGIN_RATE_LIMIT_PER_MINUTE: "100000"
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGINT")
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000)
      await exited
      clearTimeout(killer)
    }
    rmSync(dataDir, { recursive: true, force: true })
  }
  const deadline = Date.now() + 120_000
  while (!output.includes("Microbank is running")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`Microbank did not start:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  const adminPassword = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")).adminPassword as string
  return { base: `http://127.0.0.1:${port}`, adminPassword, output: () => output, stop }
}

export interface Browser {
  readonly context: BrowserContext
  /** A new tab: its own sessionStorage, so its own session. */
  readonly page: () => Promise<Page>
  /** Uncaught exceptions in any page. */
  readonly errors: Array<string>
  readonly close: () => Promise<void>
}

/** Chromium, headless, with a fresh profile; English (US) locale and UTC, for stable text. */
export const launchBrowser = async (): Promise<Browser> => {
  const profile = mkdtempSync(join(tmpdir(), "microbank-chromium-"))
  const context = await chromium.launchPersistentContext(profile, {
    headless: true,
    executablePath: chromiumPath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync"
    ],
    viewport: { width: 1280, height: 860 },
    locale: "en-US",
    timezoneId: "UTC"
  })
  const errors: Array<string> = []
  const watch = (page: Page) => {
    page.setDefaultTimeout(20_000)
    page.on("pageerror", (error) => errors.push(`${page.url()}: ${error.message}`))
    return page
  }
  context.pages().forEach(watch)
  mkdirSync(screenshots, { recursive: true })
  return {
    context,
    page: async () => watch(await context.newPage()),
    errors,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  }
}

/** Saves a screenshot to packages/web/screenshots/<name>.png (git-ignored). */
export const screenshot = (page: Page, name: string, fullPage = false) =>
  page.screenshot({ path: join(screenshots, `${name}.png`), fullPage, animations: "disabled" })

/** The error shown next to the field labelled `label` (or that field itself), via its aria-describedby. */
export const fieldError = async (page: Page, label: string | RegExp | Locator): Promise<string> => {
  const input =
    typeof label === "string" || label instanceof RegExp
      ? page.getByLabel(label, { exact: typeof label === "string" })
      : label
  const ids = ((await input.getAttribute("aria-describedby")) ?? "").split(" ").filter((id) => id.endsWith("-error"))
  if (ids.length === 0) return ""
  return ((await page.locator(`[id="${ids[0]}"]`).textContent()) ?? "").trim()
}

/** The bearer token of the tab's session, to act through the API as the same user would from another device. */
export const tokenOf = async (page: Page): Promise<string> =>
  page.evaluate(() => JSON.parse(sessionStorage.getItem("microbank.session") ?? "{}").token as string)

export const apiCall = async (base: string, token: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const json = (await response.json()) as any
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`)
  return json
}
