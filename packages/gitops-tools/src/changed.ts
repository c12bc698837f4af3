/**
 * `changed`: which services need a new image between two commits. A service's inputs are its
 * workspace, the workspaces it depends on (transitively, from package.json) and the shared build
 * files (Dockerfile, lockfile, ...). Services whose workspace does not exist yet are left out.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { services, sharedBuildInputs } from "./registry.ts"

interface Workspace {
  readonly dir: string
  readonly dependencies: ReadonlyArray<string>
}

const readWorkspaces = (root: string): Map<string, Workspace> => {
  const byName = new Map<string, Workspace>()
  const packagesDir = path.join(root, "packages")
  if (!fs.existsSync(packagesDir)) return byName
  for (const dir of fs.readdirSync(packagesDir)) {
    const file = path.join(packagesDir, dir, "package.json")
    if (!fs.existsSync(file)) continue
    const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as {
      name?: string
      dependencies?: Record<string, string>
      devDependencies?: Record<string, string>
    }
    if (!pkg.name) continue
    byName.set(pkg.name, {
      dir: `packages/${dir}`,
      dependencies: Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
    })
  }
  return byName
}

/** The repository paths (folders end with `/`) whose change rebuilds the service. */
export const buildInputs = (root: string, service: string): Array<string> | undefined => {
  const spec = services.find((s) => s.name === service)
  const workspaces = readWorkspaces(root)
  const own = spec ? workspaces.get(spec.packageName) : undefined
  if (!spec || !own) return undefined
  const dirs = new Set<string>()
  const visit = (name: string) => {
    const ws = workspaces.get(name)
    if (!ws || dirs.has(`${ws.dir}/`)) return
    dirs.add(`${ws.dir}/`)
    ws.dependencies.forEach(visit)
  }
  visit(spec.packageName)
  return [...sharedBuildInputs, ...[...dirs].sort()]
}

export const changedFiles = (root: string, base: string, head: string): Array<string> =>
  execFileSync("git", ["diff", "--name-only", base, head], { cwd: root, encoding: "utf8" })
    .split("\n")
    .filter((line) => line.length > 0)

/** Services to build: all buildable ones when `files` is undefined (first push, unknown base). */
export const changedServices = (root: string, files: ReadonlyArray<string> | undefined): Array<string> =>
  services
    .filter((s) => {
      const inputs = buildInputs(root, s.name)
      if (!inputs) return false
      if (files === undefined) return true
      return files.some((file) =>
        inputs.some((input) => (input.endsWith("/") ? file.startsWith(input) : file === input))
      )
    })
    .map((s) => s.name)
