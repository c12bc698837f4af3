import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { validate } from "../src/validate/index.ts"
import { repoRoot, tempRepo } from "./repo.ts"

describe("validate", () => {
  it("passes on the whole repository: every overlay renders, validates and meets every policy", async () => {
    const report = await validate({ root: repoRoot })
    expect(report.violations).toEqual([])
    expect(report.renders).toBeGreaterThan(40)
    expect(report.checked).toBeGreaterThan(200)
    // the pinned remote bases are reported, not skipped silently
    expect(report.notes).toContainEqual(
      expect.stringMatching(
        /^argocd\/install: remote base .*argo-cd\/v\d+\.\d+\.\d+\/manifests\/install\.yaml \(pinned to v/
      )
    )
  })

  describe("fails with a message naming file, object and rule", () => {
    const root = tempRepo()
    afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
    const edit = (rel: string, from: string | RegExp, to: string) => {
      const file = path.join(root, rel)
      const text = fs.readFileSync(file, "utf8")
      const next = text.replace(from, to)
      if (next === text) throw new Error(`test setup: ${String(from)} not found in ${rel}`)
      fs.writeFileSync(file, next)
    }
    const add = (rel: string, text: string) => fs.appendFileSync(path.join(root, rel), text)

    it("on each kind of violation", async () => {
      // a mutable tag in an environment
      edit("gitops/envs/dev/images/kustomization.yaml", /(microbank\/users\n.*\n\s+newTag: )sha-0000000/, "$1latest")
      // no default-deny in the services' namespace
      edit("gitops/platform/namespaces/networkpolicies-microbank.yaml", /apiVersion[\s\S]*?---\n/, "")
      // a secret value in git
      add(
        "gitops/platform/namespaces/namespaces.yaml",
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\n  namespace: microbank\nstringData:\n  password: hunter2\n"
      )
      // an unpinned remote base and an unpinned chart
      edit("argocd/install/kustomization.yaml", /argo-cd\/v[\d.]+\//, "argo-cd/stable/")
      edit("argocd/apps/operators/keda.yaml", /targetRevision: .*/, "targetRevision: 2.x")
      // a rule Prometheus cannot parse
      edit(
        "gitops/platform/monitoring/delivery-rules.yaml",
        'kube_deployment_status_replicas_unavailable{namespace="microbank"} > 0',
        "kube_deployment_status_replicas_unavailable{ > 0"
      )
      // a ServiceMonitor Prometheus would never select
      edit("gitops/platform/rabbitmq/servicemonitor.yaml", "    release: kube-prometheus-stack\n", "")
      // a hand-edited base: no readiness probe, and a port that is not a number
      edit("gitops/base/users/deployment.yaml", / {10}readinessProbe:\n( {12}.*\n)+?(?= {10}livenessProbe)/, "")
      edit("gitops/base/gateway/deployment.yaml", "containerPort: 8080", "containerPort: http-port")
      // a CLI rollback would be undone by the ApplicationSet
      edit(
        "argocd/apps/services.yaml",
        / {2}ignoreApplicationDifferences:\n {4}- jsonPointers:\n {8}- \/spec\/syncPolicy\n/,
        ""
      )
      // an action pinned by tag, a job without timeout, an undefined step output
      edit(".github/workflows/ci.yml", /actions\/checkout@[0-9a-f]{40} # v[\d.]+/, "actions/checkout@v6")
      edit(".github/workflows/ci.yml", "    timeout-minutes: 10\n", "")
      edit(
        ".github/workflows/ci.yml",
        "      - run: npm run lint\n",
        "      - run: npm run lint\n      - run: echo ${{ steps.missing.outputs.x }}\n"
      )

      const { violations } = await validate({ root })
      const expected = [
        /gitops\/envs\/dev\/images\/kustomization\.yaml: users: refusing tag 'latest'/,
        /gitops\/envs\/dev: Deployment microbank\/users container users: image '.*:latest@sha256:.*' uses the tag latest/,
        /gitops\/envs\/dev: Deployment microbank\/gateway: namespace microbank has no default-deny NetworkPolicy/,
        /gitops\/envs\/prod: Secret microbank\/leaked: Secret values must not be in git/,
        /argocd\/install\/kustomization\.yaml: remote resource .*\/stable\/.* is not pinned to an exact tag/,
        /argocd\/clusters\/dev: Application keda: chart keda must be pinned to an exact version, not '2\.x'/,
        /PrometheusRule microbank\/microbank-delivery: promtool check rules: .*FAILED|PrometheusRule microbank\/microbank-delivery: promtool/,
        /ServiceMonitor microbank-data\/microbank-rabbitmq: missing label\(s\) \{"release":"kube-prometheus-stack"\}/,
        /gitops\/envs\/dev: Deployment microbank\/users container users: readinessProbe is required/,
        /gitops\/base\/users\/deployment\.yaml: out of date with packages\/gitops-tools\/src\/registry\.ts/,
        /Deployment gateway \(apps\/v1\/Deployment\): \/spec\/template\/spec\/containers\/0\/ports\/0\/containerPort must be integer/,
        /argocd\/clusters\/prod: ApplicationSet services: ignoreApplicationDifferences must cover \/spec\/syncPolicy/,
        /\.github\/workflows\/ci\.yml: job check uses 'actions\/checkout@v6', not pinned to a full commit SHA/,
        /\.github\/workflows\/ci\.yml: job workflow-lint has no timeout-minutes/,
        /\.github\/workflows\/ci\.yml:\d+:\d+: actionlint \[expression\] .*missing/
      ]
      for (const pattern of expected) expect(violations, String(pattern)).toContainEqual(expect.stringMatching(pattern))
    })
  })
})
