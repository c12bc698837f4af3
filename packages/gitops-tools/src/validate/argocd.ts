/**
 * Argo CD checks: every Application and every Application an ApplicationSet generates points at a
 * path that renders (or at a chart pinned to an exact version), stays inside its AppProject, and
 * syncs automatically with prune/self-heal, CreateNamespace and retries; waves order operators,
 * platform and services; rollbacks are not undone (ignoreApplicationDifferences on syncPolicy).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { repository } from "../registry.ts"
import type { K8sObject } from "./render.ts"

export interface GeneratedApp {
  readonly name: string
  readonly spec: any
  readonly from: string
}

const exactVersion = /^v?\d+\.\d+\.\d+$/

const render = (template: unknown, params: Record<string, unknown>): any =>
  JSON.parse(
    JSON.stringify(template).replace(/\{\{\s*\.([\w.]+)\s*\}\}/g, (whole, key: string) => {
      const value = key
        .split(".")
        .reduce<unknown>((acc, k) => (acc as Record<string, unknown> | undefined)?.[k], params)
      if (value === undefined) throw new Error(`template parameter ${whole} is not defined`)
      return String(value).replace(/"/g, '\\"')
    })
  )

type Params = Record<string, unknown>

const expand = (root: string, generator: any): Array<Params> => {
  if (generator.list) return (generator.list.elements ?? []) as Array<Params>
  if (generator.git) {
    const out: Array<Params> = []
    for (const d of generator.git.directories ?? []) {
      if (d.exclude) continue
      const pattern = String(d.path)
      if (!pattern.endsWith("/*"))
        throw new Error(`git directories generator: only '<dir>/*' is supported, got ${pattern}`)
      const parent = pattern.slice(0, -2)
      const abs = path.join(root, parent)
      if (!fs.existsSync(abs)) continue
      for (const e of fs.readdirSync(abs, { withFileTypes: true }))
        if (e.isDirectory()) out.push({ path: { path: `${parent}/${e.name}`, basename: e.name } })
    }
    return out
  }
  if (generator.matrix) {
    const [first, second] = generator.matrix.generators ?? []
    const out: Array<Params> = []
    for (const a of expand(root, first)) for (const b of expand(root, render(second, a))) out.push({ ...a, ...b })
    return out
  }
  throw new Error(`unsupported generator ${Object.keys(generator).join(",")}`)
}

/** The Applications an ApplicationSet generates from this repository (list, git directories, matrix). */
export const expandApplicationSet = (root: string, set: K8sObject): Array<GeneratedApp> =>
  (set.spec?.generators ?? [])
    .flatMap((g: unknown) => expand(root, g))
    .map((params: Params) => {
      const app = render(set.spec.template, params)
      return { name: app.metadata.name, spec: app.spec, from: `ApplicationSet ${set.metadata.name}` }
    })

const wave = (o: { metadata?: { annotations?: Record<string, string> } }) =>
  Number(o.metadata?.annotations?.["argocd.argoproj.io/sync-wave"] ?? 0)

/**
 * Checks of one cluster's Argo CD render (argocd/clusters/<env>). `renders` are the folders that
 * rendered without error.
 */
export const argocdRules = (
  root: string,
  dir: string,
  objects: ReadonlyArray<K8sObject>,
  renders: ReadonlySet<string>
): { violations: Array<string>; apps: Array<GeneratedApp> } => {
  const out: Array<string> = []
  const v = (m: string) => out.push(`${dir}: ${m}`)
  const projects = new Map(objects.filter((o) => o.kind === "AppProject").map((p) => [p.metadata.name, p]))
  const apps: Array<GeneratedApp> = objects
    .filter((o) => o.kind === "Application")
    .map((a) => ({ name: a.metadata.name, spec: a.spec, from: "Application" }))
  for (const set of objects.filter((o) => o.kind === "ApplicationSet")) {
    const pointers = (set.spec?.ignoreApplicationDifferences ?? []).flatMap((d: any) => d.jsonPointers ?? [])
    if (!pointers.includes("/spec/syncPolicy"))
      v(`ApplicationSet ${set.metadata.name}: ignoreApplicationDifferences must cover /spec/syncPolicy (CLI rollbacks)`)
    try {
      const generated = expandApplicationSet(root, set)
      if (generated.length === 0) v(`ApplicationSet ${set.metadata.name}: generates no Application`)
      apps.push(...generated)
    } catch (error) {
      v(`ApplicationSet ${set.metadata.name}: ${(error as Error).message}`)
    }
  }
  for (const p of projects.values()) {
    const repos = (p.spec?.sourceRepos ?? []) as Array<string>
    if (repos.includes("*")) v(`AppProject ${p.metadata.name}: sourceRepos must not be '*'`)
    if (!repos.includes(repository.url)) v(`AppProject ${p.metadata.name}: sourceRepos lacks ${repository.url}`)
    for (const d of p.spec?.destinations ?? [])
      if (d.namespace === "*" || d.server === "*") v(`AppProject ${p.metadata.name}: destination '*' is not allowed`)
  }
  for (const app of apps) {
    const where = `${app.from === "Application" ? "Application" : app.from + " ->"} ${app.name}`
    const spec = app.spec ?? {}
    const sources = spec.sources ?? (spec.source ? [spec.source] : [])
    if (sources.length === 0) v(`${where}: no source`)
    const project = projects.get(spec.project)
    if (!project) v(`${where}: project '${spec.project}' is not declared`)
    for (const s of sources) {
      if (project && !(project.spec?.sourceRepos ?? []).includes(s.repoURL))
        v(`${where}: source ${s.repoURL} is not allowed by AppProject ${spec.project}`)
      if (s.chart) {
        if (!exactVersion.test(String(s.targetRevision)))
          v(`${where}: chart ${s.chart} must be pinned to an exact version, not '${s.targetRevision}'`)
      } else {
        if (s.repoURL !== repository.url) v(`${where}: path source must be ${repository.url}`)
        if (s.targetRevision !== repository.branch) v(`${where}: targetRevision must be ${repository.branch}`)
        if (!renders.has(s.path)) v(`${where}: path ${s.path} does not render`)
      }
    }
    const dest = spec.destination ?? {}
    if (
      project &&
      !(project.spec?.destinations ?? []).some(
        (d: any) => d.namespace === dest.namespace && (d.server === dest.server || d.name === dest.name)
      )
    )
      v(`${where}: destination ${dest.namespace} is not allowed by AppProject ${spec.project}`)
    if (app.name === "root") continue
    const sync = spec.syncPolicy ?? {}
    if (!sync.automated) v(`${where}: syncPolicy.automated is required`)
    else if (sync.automated.selfHeal !== true) v(`${where}: syncPolicy.automated.selfHeal must be true`)
    if (!(sync.syncOptions ?? []).includes("CreateNamespace=true") && app.name !== "argocd")
      v(`${where}: syncOptions needs CreateNamespace=true`)
    if (!sync.retry?.limit) v(`${where}: syncPolicy.retry is required`)
    if (spec.project === "microbank" && sync.automated?.prune !== true) v(`${where}: services must prune`)
  }
  // waves: operators before the environment's platform before the services
  const list = objects.filter((o) => o.kind === "Application" || o.kind === "ApplicationSet")
  const platformApps = list.filter((o) => o.kind === "Application" && o.spec?.source?.path?.startsWith("gitops/envs/"))
  const operators = list.filter(
    (o) =>
      o.kind === "Application" &&
      (o.spec?.source?.chart || o.spec?.source?.path?.startsWith("gitops/platform/operators/"))
  )
  const services = list.filter((o) => o.kind === "ApplicationSet")
  for (const p of platformApps) {
    for (const op of operators)
      if (wave(op) >= wave(p))
        v(`sync wave: operator ${op.metadata.name} (${wave(op)}) must precede ${p.metadata.name} (${wave(p)})`)
    for (const s of services)
      if (wave(s) <= wave(p))
        v(`sync wave: ${s.metadata.name} (${wave(s)}) must follow ${p.metadata.name} (${wave(p)})`)
  }
  if (platformApps.length === 0) v("no platform Application for the environment")
  return { violations: out, apps }
}

/** The label kube-prometheus-stack's selectors require, from its Argo CD Application. */
export const monitoringLabel = (objects: ReadonlyArray<K8sObject>): Record<string, string> | undefined => {
  const app = objects.find((o) => o.kind === "Application" && o.spec?.source?.chart === "kube-prometheus-stack")
  if (!app) return undefined
  const values = app.spec.source.helm?.valuesObject?.prometheus?.prometheusSpec ?? {}
  const nilUsesHelm = values.serviceMonitorSelectorNilUsesHelmValues ?? true
  if (!nilUsesHelm) return {}
  return { release: app.spec.source.helm?.releaseName ?? app.metadata.name }
}
