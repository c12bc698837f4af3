import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { parseAllDocuments } from "yaml"
import { digest, git, kustomize, run, tempRepo } from "./repo.ts"

const images = (root: string, env: string) => path.join(root, "gitops", "envs", env, "images", "kustomization.yaml")
const deploymentImage = (root: string, env: string, service: string) => {
  const docs = parseAllDocuments(kustomize(path.join(root, "gitops", "envs", env, "services", service))).map((d) =>
    d.toJS()
  )
  const deployment = docs.find((o) => o.kind === "Deployment")
  const job = docs.find((o) => o.kind === "Job")
  return {
    deployment: deployment.spec.template.spec.containers[0].image as string,
    job: job ? (job.spec.template.spec.containers[0].image as string) : undefined
  }
}

describe("bump and promote on a real git repository", () => {
  let root: string
  beforeAll(() => {
    root = tempRepo(["gitops"])
  })
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

  it("bump pins tag and digest; the rendered Deployment and migration Job run the new image", () => {
    const before = fs.readFileSync(images(root, "dev"), "utf8")
    const result = run(
      root,
      "bump",
      "--env",
      "dev",
      `users=sha-1a2b3c4@${digest("a")}`,
      `accounts=sha-1a2b3c4@${digest("b")}`
    )
    expect(result.stderr).toBe("")
    expect(result.status).toBe(0)
    expect(result.stdout).toContain(`dev: users sha-0000000@${digest("0")} -> sha-1a2b3c4@${digest("a")}`)
    // only the dev image pins changed, and only the lines of the two services
    expect(git(root, "diff", "--name-only").trim()).toBe("gitops/envs/dev/images/kustomization.yaml")
    const changed = git(root, "diff", "-U0")
      .split("\n")
      .filter((l) => /^[-+] /.test(l))
    expect(changed).toHaveLength(8)
    // comments and layout survive
    const after = fs.readFileSync(images(root, "dev"), "utf8")
    expect(after.split("\n").slice(0, 4)).toEqual(before.split("\n").slice(0, 4))
    expect(after.split("\n").length).toBe(before.split("\n").length)
    const users = deploymentImage(root, "dev", "users")
    expect(users.deployment).toBe(`ghcr.io/troupe-dev/troupe/users:sha-1a2b3c4@${digest("a")}`)
    expect(users.job).toBe(users.deployment)
    expect(deploymentImage(root, "dev", "accounts").deployment).toBe(
      `ghcr.io/troupe-dev/troupe/accounts:sha-1a2b3c4@${digest("b")}`
    )
    // other services and environments are untouched
    expect(deploymentImage(root, "dev", "jobs").deployment).toContain("sha-0000000")
    expect(deploymentImage(root, "prod", "users").deployment).toContain("sha-0000000")
    git(root, "commit", "-qam", "bump dev")
  })

  it("bump is idempotent", () => {
    const result = run(root, "bump", "--env", "dev", `users=sha-1a2b3c4@${digest("a")}`)
    expect(result.status).toBe(0)
    expect(result.stdout).toContain("already up to date")
    expect(git(root, "status", "--porcelain")).toBe("")
  })

  it.each([
    [
      ["bump", "--env", "dev", `payments=sha-1a2b3c4@${digest("a")}`],
      /unknown service 'payments' \(known: gateway, users/
    ],
    [["bump", "--env", "dev", `users=latest@${digest("a")}`], /refusing tag 'latest'/],
    [["bump", "--env", "dev", `users=sha 1@${digest("a")}`], /malformed tag 'sha 1'/],
    [["bump", "--env", "dev", "users=sha-1a2b3c4@sha256:abc"], /malformed digest 'sha256:abc'/],
    [["bump", "--env", "dev", "users=sha-1a2b3c4"], /expected <service>=<tag>@<digest>/],
    [["bump", "--env", "staging", `users=sha-1a2b3c4@${digest("a")}`], /unknown environment 'staging'/],
    [["bump", `users=sha-1a2b3c4@${digest("a")}`], /bump needs --env/]
  ])("bump %j fails with a clear error and changes nothing", (args, message) => {
    const result = run(root, ...args)
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(git(root, "status", "--porcelain")).toBe("")
  })

  it("promote copies tag and digest to the next environment only", () => {
    const result = run(root, "promote", "--from", "dev", "--to", "prod", "users")
    expect(result.status).toBe(0)
    expect(result.stdout).toContain(`prod: users sha-0000000@${digest("0")} -> sha-1a2b3c4@${digest("a")}`)
    expect(git(root, "diff", "--name-only").trim()).toBe("gitops/envs/prod/images/kustomization.yaml")
    expect(deploymentImage(root, "prod", "users").deployment).toBe(
      `ghcr.io/troupe-dev/troupe/users:sha-1a2b3c4@${digest("a")}`
    )
    // accounts was not named: prod keeps its own pin
    expect(deploymentImage(root, "prod", "accounts").deployment).toContain("sha-0000000")
    git(root, "commit", "-qam", "promote users")
    // the standby gets the same image when prod is promoted onwards
    expect(run(root, "promote", "--from", "prod", "--to", "prod-dr").status).toBe(0)
    expect(deploymentImage(root, "prod-dr", "users").deployment).toBe(
      `ghcr.io/troupe-dev/troupe/users:sha-1a2b3c4@${digest("a")}`
    )
    expect(deploymentImage(root, "prod-dr", "users").job).toBeUndefined()
  })

  it("promote refuses to skip an environment unless forced", () => {
    git(root, "checkout", "-q", "--", ".")
    const skipped = run(root, "promote", "--from", "dev", "--to", "prod-dr", "accounts")
    expect(skipped.status).toBe(2)
    expect(skipped.stderr).toContain("dev promotes to prod, not prod-dr")
    expect(run(root, "promote", "--from", "dev", "--to", "prod-dr", "--force", "accounts").status).toBe(0)
    expect(deploymentImage(root, "prod-dr", "accounts").deployment).toContain(digest("b"))
  })
})
