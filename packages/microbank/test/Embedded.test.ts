// Embedded mode (`npm start`): the whole of Microbank in one process, real HTTP.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Api, eventually } from "./api.ts"
import { bruteForceScenario, coreScenarios, purchaseScenarios, workScenarios } from "./scenarios.ts"
import { freePort } from "../src/Stack.ts"

const main = fileURLToPath(new URL("../src/main-embedded.ts", import.meta.url))

interface Running {
  readonly process: ChildProcess
  readonly output: () => string
  readonly exited: Promise<number | null>
}

const launch = async (dataDir: string, port: number): Promise<Running> => {
  let output = ""
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      PASSWORD_SCRYPT_LOG_N: "14",
      AUTH_RATE_LIMIT_PER_MINUTE: "100000"
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  child.stdout!.on("data", (d) => (output += d))
  child.stderr!.on("data", (d) => (output += d))
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)))
  await eventually(
    async () =>
      output.includes("Microbank is running")
        ? true
        : child.exitCode !== null
          ? Promise.reject(new Error(output))
          : undefined,
    90_000,
    "the banner"
  )
  return { process: child, output: () => output, exited }
}

describe("embedded mode", () => {
  let dataDir: string
  let port: number
  let running: Running
  let adminPassword: string
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "microbank-embedded-"))
    port = await freePort()
    running = await launch(dataDir, port)
    adminPassword = JSON.parse(readFileSync(join(dataDir, "secrets.json"), "utf8")).adminPassword
  })
  afterAll(async () => {
    running?.process.kill("SIGKILL")
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("prints where it runs and the demo admin's credentials; keeps secrets private", () => {
    assert.include(running.output(), `http://127.0.0.1:${port}`)
    assert.include(running.output(), `admin / ${adminPassword}`)
    assert.strictEqual(
      statSync(join(dataDir, "secrets.json")).mode & 0o077,
      0,
      "secrets.json is readable by its owner only"
    )
  })

  coreScenarios(() => ({ gateway: `http://127.0.0.1:${port}`, adminPassword }))
  bruteForceScenario(() => ({ gateway: `http://127.0.0.1:${port}`, adminPassword }))
  workScenarios(() => ({ gateway: `http://127.0.0.1:${port}`, adminPassword }))
  purchaseScenarios(() => ({ gateway: `http://127.0.0.1:${port}`, adminPassword }))

  it("keeps its data across a restart and shuts down cleanly on Ctrl-C", async () => {
    const api = await new Api(`http://127.0.0.1:${port}`).login("admin", adminPassword)
    const account = await api.post("/api/accounts", { account_type: "checking", initial_deposit: "42.00" })
    assert.strictEqual(account.status, 201)
    running.process.kill("SIGINT")
    assert.strictEqual(await running.exited, 0, running.output())
    running = await launch(dataDir, port)
    const again = await new Api(`http://127.0.0.1:${port}`).login("admin", adminPassword)
    const fetched = await again.get(`/api/accounts/${account.body.id}`)
    assert.strictEqual(fetched.status, 200)
    assert.strictEqual(fetched.body.balance, "42.00")
    assert.include(running.output(), "from ")
  })
})
