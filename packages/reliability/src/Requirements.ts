/**
 * What the harness needs on the machine: Debian's PostgreSQL server binaries (initdb, postgres,
 * pg_basebackup, pg_waldump) and client (psql), RabbitMQ's scripts, and kcat (the Kafka mock
 * broker). With REQUIRE_REAL_SERVICES=1 a missing one is an error, not a reason to skip.
 */
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { join } from "node:path"
import * as KafkaMock from "../../microbank/src/KafkaMock.ts"
import * as Postgres from "./Postgres.ts"
import * as RabbitMq from "./RabbitMq.ts"

export const requireReal = process.env.REQUIRE_REAL_SERVICES === "1"

/** What is missing, each with the Debian package that brings it. */
export const missing = (): Array<string> => {
  const out: Array<string> = []
  const bin = Postgres.binDir()
  for (const tool of ["initdb", "postgres", "pg_basebackup", "pg_waldump"])
    if (!bin || !existsSync(join(bin, tool))) out.push(`${tool} (apt-get install postgresql)`)
  if (spawnSync("psql", ["--version"], { stdio: "ignore" }).status !== 0)
    out.push("psql (apt-get install postgresql-client)")
  if (!RabbitMq.available()) out.push("rabbitmq-server (apt-get install rabbitmq-server)")
  if (!KafkaMock.available()) out.push("kcat (apt-get install kcat)")
  return out
}

/** Missing tools; throws when REQUIRE_REAL_SERVICES=1 and something is missing. */
export const check = (): ReadonlyArray<string> => {
  const gaps = missing()
  if (gaps.length > 0 && requireReal) throw new Error(`REQUIRE_REAL_SERVICES=1 but missing: ${gaps.join(", ")}`)
  return gaps
}
