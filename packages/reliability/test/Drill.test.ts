// One DR failover drill with synchronous replication: the primary dies while its standby lags
// (its WAL receiver frozen for 2 s), the standby is promoted and the services repointed.
// Every acknowledged write must be on the promoted standby.
import { assert, describe, it } from "@effect/vitest"
import * as Drill from "../src/Drill.ts"
import * as Requirements from "../src/Requirements.ts"

const gaps = Requirements.check()

describe.skipIf(gaps.length > 0)("DR failover drill", () => {
  it("synchronous replication: kill -9 of the primary, pg_promote(), repoint: no acknowledged write lost", async () => {
    const r = await Drill.drill({ mode: "sync", env: { KAFKA_SESSION_TIMEOUT: "10 seconds" } })
    const detail = JSON.stringify({ problems: r.problems.slice(0, 10), steps: r.steps, unexpected: r.unexpected })
    assert.isAbove(r.operations, 50, detail)
    assert.strictEqual(r.lost, 0, `RPO: ${detail}`)
    assert.strictEqual(r.duplicated, 0, detail)
    assert.isTrue(r.balancesReconciled, detail)
    assert.deepStrictEqual(r.unexpected, [])
    assert.isAtMost(r.rtoSeconds, 90, `RTO: ${detail}`)
  })
})
