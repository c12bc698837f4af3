/**
 * `validate`: everything about gitops/, argocd/ and .github/ that can be proven offline.
 * Renders every kustomization, validates every object against its schema, applies the policy
 * checks, runs `promtool check rules` on every PrometheusRule and actionlint on the workflows,
 * and checks the repository against the service registry. Any violation fails.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseAllDocuments, stringify } from "yaml"
import { generatedDrift } from "../generate.ts"
import { checkDigest, checkTag, readPins } from "../images.ts"
import { baseImage, environments, imageName, services } from "../registry.ts"
import { argocdRules, monitoringLabel } from "./argocd.ts"
import { environmentRules } from "./policy.ts"
import { findKustomizations, pinnedTag, render, type K8sObject, type Render } from "./render.ts"
import { schemaViolations } from "./schemas.ts"
import { actionlint, workflowRules } from "./workflows.ts"

export interface ValidateOptions {
  readonly root: string
  /** actionlint takes a few seconds to load; tests of other parts may skip it. */
  readonly actionlint?: boolean
}

export interface Report {
  readonly violations: ReadonlyArray<string>
  readonly notes: ReadonlyArray<string>
  readonly checked: number
  readonly renders: number
}

const promtool = (rules: ReadonlyArray<K8sObject>): Array<string> => {
  if (rules.length === 0) return []
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-rules-"))
  const out: Array<string> = []
  try {
    for (const rule of rules) {
      const file = path.join(tmp, `${rule.metadata.namespace ?? "cluster"}-${rule.metadata.name}.yaml`)
      fs.writeFileSync(file, stringify({ groups: rule.spec?.groups ?? [] }))
      try {
        execFileSync("promtool", ["check", "rules", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
      } catch (error) {
        const e = error as { code?: string; stdout?: string; stderr?: string; message: string }
        if (e.code === "ENOENT") return ["promtool is not installed (Debian package prometheus)"]
        const text = `${e.stdout ?? ""}${e.stderr ?? ""}`
          .trim()
          .split("\n")
          .filter((l) => /FAILED|error|Error/.test(l))
        out.push(
          `PrometheusRule ${rule.metadata.namespace}/${rule.metadata.name}: promtool check rules: ${text.join(" | ") || e.message}`
        )
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  return out
}

/** Registry ↔ repository: generated files current, every env pins every service, no strays. */
const registryRules = (root: string): Array<string> => {
  const out: Array<string> = []
  for (const file of generatedDrift(root))
    out.push(
      `${file}: out of date with packages/gitops-tools/src/registry.ts (run: node packages/gitops-tools/src/cli.ts generate)`
    )
  for (const env of environments) {
    const file = path.join(root, "gitops", "envs", env.name, "images", "kustomization.yaml")
    const rel = path.relative(root, file)
    let pins: ReturnType<typeof readPins>
    try {
      pins = readPins(file)
    } catch (error) {
      out.push(`${rel}: ${(error as Error).message}`)
      continue
    }
    for (const s of services) {
      const pin = pins.find((p) => p.service === s.name)
      if (!pin) {
        out.push(`${rel}: no image pinned for ${s.name}`)
        continue
      }
      if (pin.name !== imageName(s.name))
        out.push(`${rel}: ${s.name} image is ${pin.name}, registry says ${imageName(s.name)}`)
      for (const check of [() => checkTag(pin.tag), () => checkDigest(pin.digest)])
        try {
          check()
        } catch (error) {
          out.push(`${rel}: ${s.name}: ${(error as Error).message}`)
        }
    }
    const servicesDir = path.join(root, "gitops", "envs", env.name, "services")
    if (fs.existsSync(servicesDir))
      for (const d of fs.readdirSync(servicesDir, { withFileTypes: true }))
        if (d.isDirectory() && !services.some((s) => s.name === d.name))
          out.push(`gitops/envs/${env.name}/services/${d.name}: not a service of the registry`)
  }
  for (const s of services) {
    const pkg = path.join(root, "packages", s.name, "package.json")
    if (!fs.existsSync(pkg)) continue
    const name = (JSON.parse(fs.readFileSync(pkg, "utf8")) as { name?: string }).name
    if (name !== s.packageName)
      out.push(`packages/${s.name}/package.json: name is ${name}, registry says ${s.packageName}`)
  }
  return out
}

/** Kustomization files: `resources:` never `bases:`, images only in env overlays, remote pinned. */
const kustomizationRules = (root: string, notes: Array<string>) => {
  const out: Array<string> = []
  for (const k of findKustomizations(root, ["gitops", "argocd"])) {
    const rel = `${k.dir}/kustomization.yaml`
    if (k.content.bases) out.push(`${rel}: uses the deprecated 'bases:' (use resources:)`)
    if (k.content.images && !/^gitops\/envs\/[^/]+\/images$/.test(k.dir))
      out.push(`${rel}: images: belong only in gitops/envs/<env>/images (the env overlays)`)
    for (const r of (k.content.resources ?? []) as Array<string>) {
      if (!/^(https?:\/\/|git@|github\.com\/)/.test(r)) continue
      const tag = pinnedTag(r)
      if (!tag) out.push(`${rel}: remote resource ${r} is not pinned to an exact tag`)
      else notes.push(`${k.dir}: remote base ${r} (pinned to ${tag}; not fetched offline — rendered without it)`)
    }
  }
  return out
}

export const validate = async (options: ValidateOptions): Promise<Report> => {
  const { root } = options
  const violations: Array<string> = []
  const notes: Array<string> = []
  violations.push(...registryRules(root))
  violations.push(...kustomizationRules(root, notes))

  const renders: Array<Render> = findKustomizations(root, ["gitops", "argocd"])
    .filter((k) => k.kind === "Kustomization")
    .map((k) => render(root, k))
  const ok = new Set<string>()
  for (const r of renders) {
    if (r.error) violations.push(`${r.dir}: kubectl kustomize failed: ${r.error}`)
    else ok.add(r.dir)
  }

  // schema: every distinct object once
  const distinct = new Map<string, { o: K8sObject; dir: string }>()
  for (const r of renders)
    for (const o of r.objects) if (!distinct.has(JSON.stringify(o))) distinct.set(JSON.stringify(o), { o, dir: r.dir })
  for (const { o, dir } of distinct.values()) for (const e of await schemaViolations(o)) violations.push(`${dir}: ${e}`)

  // argo cd, per cluster
  const byDir = new Map(renders.map((r) => [r.dir, r]))
  const apps = byDir.get("argocd/apps")
  const label = apps ? monitoringLabel(apps.objects) : undefined
  if (!label) violations.push("argocd/apps: no kube-prometheus-stack Application to derive the monitoring label from")
  for (const env of environments) {
    const dir = `argocd/clusters/${env.name}`
    const cluster = byDir.get(dir)
    if (!cluster || cluster.error) {
      violations.push(`${dir}: missing or does not render`)
      continue
    }
    const result = argocdRules(root, dir, cluster.objects, ok)
    violations.push(...result.violations)
    const wantApps = services.map((s) => `${env.name}-${s.name}`)
    for (const name of wantApps)
      if (!result.apps.some((a) => a.name === name)) violations.push(`${dir}: no Application ${name} is generated`)
  }

  // environments: policy over the whole-environment render
  for (const env of environments) {
    const r = byDir.get(`gitops/envs/${env.name}`)
    if (!r || r.error) {
      violations.push(`gitops/envs/${env.name}: missing or does not render`)
      continue
    }
    violations.push(...environmentRules(r.dir, r.objects, { standby: env.standby, monitoringLabel: label ?? {} }))
    for (const s of services)
      if (!r.objects.some((o) => o.kind === "Deployment" && o.metadata.name === s.name))
        violations.push(`gitops/envs/${env.name}: no Deployment for service ${s.name}`)
      else {
        const d = r.objects.find((o) => o.kind === "Deployment" && o.metadata.name === s.name)!
        const image = String(d.spec.template.spec.containers[0]?.image ?? "")
        if (!image.startsWith(`${imageName(s.name)}:`))
          violations.push(`gitops/envs/${env.name}: ${s.name} runs ${image}`)
      }
    const zero = r.objects.filter((o) =>
      (o.spec?.template?.spec?.containers ?? []).some((c: { image?: string }) => /@sha256:0{64}$/.test(c.image ?? ""))
    )
    if (zero.length > 0)
      notes.push(`gitops/envs/${env.name}: ${zero.length} workload(s) still on the never-released placeholder digest`)
  }
  // bases keep the placeholder image: tags live only in env overlays
  for (const s of services) {
    const r = byDir.get(`gitops/base/${s.name}`)
    const images = (r?.objects ?? []).flatMap((o) =>
      (o.spec?.template?.spec?.containers ?? []).map((c: { image: string }) => c.image)
    )
    for (const image of images)
      if (image !== baseImage(s.name))
        violations.push(`gitops/base/${s.name}: image ${image} (bases must not pin tags)`)
  }

  // monitoring label on every ServiceMonitor/PodMonitor/PrometheusRule anywhere
  const monitors = [...distinct.values()].filter(({ o }) =>
    ["ServiceMonitor", "PodMonitor", "PrometheusRule"].includes(o.kind)
  )
  for (const { o, dir } of monitors)
    if (label && !Object.entries(label).every(([k, v]) => o.metadata.labels?.[k] === v))
      violations.push(
        `${dir}: ${o.kind} ${o.metadata.name} lacks label ${JSON.stringify(label)} (kube-prometheus-stack selector)`
      )
  const rules = new Map<string, K8sObject>()
  for (const { o } of distinct.values()) if (o.kind === "PrometheusRule") rules.set(JSON.stringify(o.spec), o)
  violations.push(...promtool([...rules.values()]))

  violations.push(...workflowRules(root))
  if (options.actionlint !== false) violations.push(...(await actionlint(root)))

  // a stray file that is not YAML at all must not hide in gitops/
  for (const dir of ["gitops", "argocd"]) {
    const walk = (rel: string) => {
      for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const child = path.posix.join(rel, e.name)
        if (e.isDirectory()) walk(child)
        else if (/\.ya?ml$/.test(e.name)) {
          for (const d of parseAllDocuments(fs.readFileSync(path.join(root, child), "utf8")))
            if (d.errors.length > 0) violations.push(`${child}: ${d.errors[0]!.message.split("\n")[0]}`)
        }
      }
    }
    if (fs.existsSync(path.join(root, dir))) walk(dir)
  }

  return {
    violations: [...new Set(violations)],
    notes: [...new Set(notes)],
    checked: distinct.size,
    renders: renders.length
  }
}
