// Helpers: a throwaway git repository holding a copy of this repository's delivery files, and
// the CLI run exactly as CI runs it (node on the .ts entry point).
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
export const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url))

export const git = (cwd: string, ...args: Array<string>) =>
  execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null" } })

/** A new git repository with copies of the given repository paths, committed. */
export const tempRepo = (paths: ReadonlyArray<string> = ["gitops", "argocd", ".github"]): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-tools-test-"))
  for (const p of paths) fs.cpSync(path.join(repoRoot, p), path.join(dir, p), { recursive: true })
  git(dir, "init", "-q", "-b", "main")
  git(dir, "config", "user.email", "test@example.com")
  git(dir, "config", "user.name", "test")
  git(dir, "add", "-A")
  git(dir, "commit", "-q", "-m", "initial")
  return dir
}

export const run = (cwd: string, ...args: Array<string>) => {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: "utf8" })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

export const kustomize = (dir: string) => execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" })

export const digest = (c: string) => `sha256:${c.repeat(64)}`
