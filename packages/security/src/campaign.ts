/**
 * `npm run hostile`: the long hostile-input campaign — HOSTILE_RUNS generated requests per
 * operation (default 1000) against embedded Microbank, with the seed recorded. Writes
 * `reports/hostile-input.json` (seed, cases and statuses per operation, violations) and exits
 * non-zero if any request broke a rule. Replay a run with the same HOSTILE_SEED.
 */
import { spawnSync } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

const here = fileURLToPath(new URL("..", import.meta.url))
const runs = process.env.HOSTILE_RUNS ?? "1000"
const seed = process.env.HOSTILE_SEED ?? String(Math.floor(Math.random() * 2 ** 31))
const report = `${here}reports/hostile-input.json`
const violations = `${here}reports/hostile-violations.txt`
rmSync(violations, { force: true })
console.log(`hostile input campaign: ${runs} requests per operation, HOSTILE_SEED=${seed}`)
const started = Date.now()
// Vitest on this Node (24), whatever `node` is first on PATH.
const result = spawnSync(
  process.execPath,
  [`${here}../../node_modules/vitest/vitest.mjs`, "run", "test/embedded.test.ts", "-t", "hostile input"],
  {
    cwd: here,
    stdio: "inherit",
    env: {
      ...process.env,
      HOSTILE_RUNS: runs,
      HOSTILE_SEED: seed,
      HOSTILE_REPORT: report,
      HOSTILE_VIOLATIONS: violations
    }
  }
)
const data = JSON.parse(readFileSync(report, "utf8")) as {
  operations: Record<string, { seed: number; cases: number; statuses: Record<string, number> }>
  violations: Array<string>
}
const cases = Object.values(data.operations).reduce((n, o) => n + o.cases, 0)
console.log(
  `\n${Object.keys(data.operations).length} operations, ${cases} requests in ${Math.round((Date.now() - started) / 1000)} s, ` +
    `${data.violations.length} violations (seed ${seed}); report: ${report}`
)
process.exit(result.status ?? 1)
