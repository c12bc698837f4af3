// Offline checks of the dashboards, rules and generated gitops files; `promtool test rules` runs
// every alert against synthetic series (it fires when it should, and stays quiet when it should).
import { assert, describe, it } from "@effect/vitest"
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseAllDocuments, stringify } from "yaml"
import { platform, services } from "../../gitops-tools/src/registry.ts"
import { dashboards, uids } from "../src/Dashboards.ts"
import { panelsOf, render, tag } from "../src/Grafana.ts"
import { drift, files, monitoringDir, root } from "../src/generate.ts"
import { alerts, anchor, groups, isAlert, prometheusRule, ruleFile, runbook } from "../src/Rules.ts"
import { endpointOf, scrapeConfig } from "../src/Scrape.ts"
import { alertTests } from "./rule-tests.ts"

const requireReal = process.env.REQUIRE_REAL_SERVICES === "1"
const has = (command: string, args: Array<string>) => spawnSync(command, args, { stdio: "ignore" }).error === undefined
const promtool = has("promtool", ["--version"])
const kubectl = has("kubectl", ["version", "--client"])
if (requireReal && (!promtool || !kubectl)) throw new Error("REQUIRE_REAL_SERVICES=1 needs promtool and kubectl")

const withTmp = <A>(f: (dir: string) => A): A => {
  const dir = mkdtempSync(join(tmpdir(), "observability-"))
  try {
    return f(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

describe("dashboards", () => {
  it("gitops/platform/monitoring is generated from the TypeScript (run: node packages/observability/src/generate.ts)", () => {
    assert.deepStrictEqual(drift(), [])
  })

  it("every panel has a unit, a description and queries; tables a unit per column", () => {
    for (const d of dashboards)
      for (const { row, panel } of panelsOf(d)) {
        const where = `${d.uid} / ${row} / ${panel.title}`
        assert.isNotEmpty(panel.unit, where)
        assert.isNotEmpty(panel.description, where)
        assert.isNotEmpty(panel.queries, where)
        if (panel.kind === "table") assert.strictEqual(panel.columnUnits?.length, panel.queries.length, where)
      }
    // and in the JSON Grafana loads
    for (const d of dashboards) {
      const json = render(d) as { panels: Array<{ type: string; title: string; fieldConfig?: any; gridPos: any }> }
      for (const p of json.panels.filter((x) => x.type !== "row")) {
        assert.isNotEmpty(p.fieldConfig?.defaults?.unit, `${d.uid} / ${p.title}`)
        assert.isAtMost(p.gridPos.x + p.gridPos.w, 24, `${d.uid} / ${p.title} fits the grid`)
      }
    }
  })

  it("queries of the services' metrics select $namespace and $service", () => {
    for (const d of dashboards) {
      assert.deepStrictEqual(
        d.variables.map((v) => v.name),
        ["namespace", "service"],
        d.uid
      )
      for (const { panel } of panelsOf(d))
        for (const q of panel.queries) {
          if (panel.source?.kind === "cluster" && !q.expr.includes("$namespace")) continue
          assert.include(q.expr, "$namespace", `${d.uid} / ${panel.title}: ${q.expr}`)
          if (panel.source?.kind !== "cluster")
            assert.include(q.expr, "$service", `${d.uid} / ${panel.title}: ${q.expr}`)
        }
    }
  })

  it("dashboards link to each other: by tag at the top, by uid from panels", () => {
    const known = new Set(dashboards.map((d) => d.uid))
    assert.strictEqual(known.size, dashboards.length, "unique uids")
    assert.deepStrictEqual([...known].sort(), Object.values(uids).sort())
    for (const d of dashboards) {
      const json = render(d) as { tags: Array<string>; links: Array<{ type: string; tags: Array<string> }> }
      assert.include(json.tags, tag)
      assert.isTrue(json.links.some((l) => l.type === "dashboards" && l.tags.includes(tag)))
      for (const { panel } of panelsOf(d))
        for (const link of panel.links ?? [])
          assert.isTrue(known.has(link.dashboard), `${panel.title} → ${link.dashboard}`)
    }
    const linkedTo = new Set(
      dashboards.flatMap((d) => panelsOf(d).flatMap(({ panel }) => (panel.links ?? []).map((l) => l.dashboard)))
    )
    assert.deepStrictEqual([...linkedTo].sort(), [...known].sort(), "every dashboard is the target of a panel link")
  })

  it.skipIf(!kubectl)(
    "the monitoring kustomization renders one labelled ConfigMap per dashboard, holding its JSON",
    () => {
      const out = execFileSync("kubectl", ["kustomize", join(root, monitoringDir)], { encoding: "utf8" })
      const objects = parseAllDocuments(out).map((d) => d.toJS())
      for (const d of dashboards) {
        const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === `dashboard-${d.uid}`)
        assert.isDefined(cm, d.uid)
        assert.strictEqual(cm.metadata.labels.grafana_dashboard, "1")
        assert.strictEqual(cm.metadata.annotations.grafana_folder, "Microbank")
        assert.deepStrictEqual(JSON.parse(cm.data[`${d.uid}.json`]), render(d))
      }
      const rule = objects.find((o) => o.kind === "PrometheusRule" && o.metadata.name === "microbank-observability")
      assert.deepStrictEqual(rule, prometheusRule())
    }
  )
})

describe("alert rules", () => {
  it("every alert has a severity, a summary, a description and a runbook section", () => {
    const doc = readFileSync(join(root, "docs/runbooks/alerts.md"), "utf8")
    const headings = new Set([...doc.matchAll(/^## (\S+)$/gm)].map((m) => m[1]!.toLowerCase()))
    const names = alerts.map((a) => a.alert)
    assert.strictEqual(new Set(names).size, names.length, "unique alert names")
    for (const a of alerts) {
      assert.include(["critical", "warning"], a.severity)
      assert.isAbove(a.summary.length, 10, a.alert)
      assert.isAbove(a.description.length, 30, a.alert)
      assert.isTrue(headings.has(anchor(a.alert)), `docs/runbooks/alerts.md has a section ## ${a.alert}`)
      const section = doc.split(/^## /m).find((s) => s.startsWith(`${a.alert}\n`))!
      for (const part of ["**What it means.**", "**How to check.**", "**How to fix.**"])
        assert.include(section, part, `${a.alert}: ${part}`)
    }
    const rule = prometheusRule()
    assert.strictEqual(rule.metadata.labels.release, "kube-prometheus-stack")
    for (const g of rule.spec.groups)
      for (const r of g.rules)
        if ("alert" in r) assert.strictEqual(r.annotations!.runbook_url, `${runbook}#${anchor(r.alert)}`)
  })

  it.skipIf(!promtool)("promtool check rules passes", () => {
    withTmp((dir) => {
      writeFileSync(join(dir, "rules.yaml"), stringify(ruleFile()))
      const out = execFileSync("promtool", ["check", "rules", join(dir, "rules.yaml")], { encoding: "utf8" })
      const count = groups.reduce((n, g) => n + g.rules.length, 0)
      assert.include(out, `SUCCESS: ${count} rules found`)
    })
  })

  it.skipIf(!promtool)("promtool test rules: each alert fires on a failure and stays quiet on a healthy system", () => {
    withTmp((dir) => {
      // annotations are templates of the values; the tests are about when an alert fires
      writeFileSync(join(dir, "rules.yaml"), stringify(ruleFile({ annotations: false })))
      writeFileSync(
        join(dir, "tests.yaml"),
        stringify({ rule_files: ["rules.yaml"], evaluation_interval: "1m", tests: alertTests })
      )
      const result = spawnSync("promtool", ["test", "rules", join(dir, "tests.yaml")], { encoding: "utf8" })
      assert.strictEqual(result.status, 0, `${result.stdout}\n${result.stderr}`)
    })
    const tested = new Set(alertTests.flatMap((t) => t.alert_rule_test.map((a) => a.alertname)))
    const untested = alerts.map((a) => a.alert).filter((a) => !tested.has(a))
    assert.deepStrictEqual(untested, [], "every alert has a promtool test")
  })

  it("recording rules come before the alerts that use them", () => {
    const recorded = groups.flatMap((g) =>
      g.rules.filter((r) => !isAlert(r)).map((r) => (r as { record: string }).record)
    )
    for (const a of alerts)
      for (const name of a.expr.match(/service:[a-z_:0-9]+/g) ?? []) assert.include(recorded, name, a.alert)
  })
})

describe("scrape configuration", () => {
  it("comes from the ServiceMonitors the registry generates", () => {
    for (const s of services) {
      const e = endpointOf(s.name)
      assert.deepStrictEqual(
        { path: e.path, scheme: e.scheme, port: e.port, containerPort: e.containerPort },
        { path: "/metrics", scheme: "http", port: "http", containerPort: platform.port },
        s.name
      )
    }
    const config = scrapeConfig(
      [
        { service: "accounts", pod: "accounts-1", address: "127.0.0.1:1" },
        { service: "accounts", pod: "accounts-2", address: "127.0.0.1:2" }
      ],
      { interval: "1s" }
    )
    assert.strictEqual(config.scrape_configs.length, 1)
    const job = config.scrape_configs[0]!
    assert.strictEqual(job.job_name, "accounts")
    assert.deepStrictEqual(job.static_configs[1], {
      targets: ["127.0.0.1:2"],
      labels: {
        namespace: "microbank",
        service: "accounts",
        pod: "accounts-2",
        container: "accounts",
        endpoint: "http"
      }
    })
    assert.throws(() => scrapeConfig([{ service: "nope", pod: "nope-1", address: "x:1" }], { interval: "1s" }))
  })

  it("generated files exist for every dashboard", () => {
    const generated = Object.keys(files())
    for (const d of dashboards) assert.include(generated, `${monitoringDir}/dashboards/${d.uid}.json`)
  })
})
