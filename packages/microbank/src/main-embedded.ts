/**
 * `npm start`: the whole of Microbank in ONE process, on embedded defaults — every service
 * with its own embedded PostgreSQL (PGlite) in DATA_DIR (default `.data`), the in-process
 * broker between them, the gateway on http://localhost:8080. Ctrl-C stops it cleanly.
 */
import * as Accounts from "@microbank/accounts/src/Service.ts"
import * as Gateway from "@microbank/gateway/src/Service.ts"
import * as Ingest from "@microbank/ingest/src/Service.ts"
import * as Jobs from "@microbank/jobs/src/Service.ts"
import * as Notifications from "@microbank/notifications/src/Service.ts"
import * as Purchases from "@microbank/purchases/src/Service.ts"
import * as Users from "@microbank/users/src/Service.ts"
import { ServiceHost } from "@troupe/runtime"
import { ConfigProvider, Effect, Layer } from "effect"
import { createServer } from "node:net"
import { resolve } from "node:path"
import * as Secrets from "./Secrets.ts"

const freePort = (): Promise<number> =>
  new Promise((done, fail) => {
    const server = createServer()
    server.once("error", fail)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => done(port))
    })
  })

const dataDir = resolve(process.env.DATA_DIR ?? ".data")
const gatewayPort = process.env.PORT ?? "8080"
const host = process.env.HOST ?? "127.0.0.1"
const { secrets, file, created } = Secrets.load(dataDir)
const ports = {
  users: await freePort(),
  accounts: await freePort(),
  notifications: await freePort(),
  purchases: await freePort(),
  ingest: await freePort(),
  jobs: await freePort()
}
const urls = {
  USERS_URL: `http://127.0.0.1:${ports.users}`,
  ACCOUNTS_URL: `http://127.0.0.1:${ports.accounts}`,
  NOTIFICATIONS_URL: `http://127.0.0.1:${ports.notifications}`,
  PURCHASES_URL: `http://127.0.0.1:${ports.purchases}`,
  INGEST_URL: `http://127.0.0.1:${ports.ingest}`,
  JOBS_URL: `http://127.0.0.1:${ports.jobs}`
}

// Each service reads the same environment, with its own port (and the gateway its peers' URLs) on top.
const withConfig = (values: Record<string, string>) =>
  Layer.provide(
    ConfigProvider.layerAdd(ConfigProvider.fromUnknown({ DATA_DIR: dataDir, ...Secrets.env(secrets), ...values }), {
      asPrimary: true
    })
  )
const internal = (port: number) => ({
  PORT: String(port),
  HOST: "127.0.0.1",
  PASSWORD_SCRYPT_LOG_N: process.env.PASSWORD_SCRYPT_LOG_N ?? "15"
})

const announce = Layer.effectDiscard(
  Effect.sync(() => {
    const url = `http://${host === "0.0.0.0" ? "localhost" : host}:${gatewayPort}`
    console.log(
      [
        "",
        `  Microbank is running (embedded) on ${url}`,
        `  API docs:   ${url}/docs`,
        `  Admin:      admin / ${secrets.adminPassword}   (${created ? "generated" : "from"} ${file})`,
        `  Data:       ${dataDir}`,
        "  Stop with Ctrl-C.",
        ""
      ].join("\n")
    )
  })
)

const services = Layer.mergeAll(
  Users.layer.pipe(withConfig(internal(ports.users))),
  Accounts.layer.pipe(withConfig(internal(ports.accounts))),
  Notifications.layer.pipe(withConfig(internal(ports.notifications))),
  Purchases.layer.pipe(withConfig(internal(ports.purchases))),
  Ingest.layer.pipe(withConfig(internal(ports.ingest))),
  Jobs.layer.pipe(withConfig({ ...internal(ports.jobs), ...urls })),
  Gateway.layer.pipe(withConfig({ PORT: gatewayPort, HOST: host, ...urls }))
)

// The banner comes once every service is up.
ServiceHost.run(Layer.provide(announce, services))
