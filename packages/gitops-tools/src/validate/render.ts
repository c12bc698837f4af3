/**
 * Renders every kustomization under gitops/ and argocd/ with `kubectl kustomize`, offline.
 * A remote resource (an upstream release manifest) must be pinned to an exact tag; it is
 * reported, and the folder is rendered without it, with stand-ins for the objects its patches
 * target so the patches themselves are still applied and validated.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseAllDocuments, parseDocument, stringify } from "yaml"

export interface K8sObject {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: {
    readonly name: string
    readonly namespace?: string
    readonly labels?: Record<string, string>
    readonly annotations?: Record<string, string>
  }
  readonly [key: string]: any
}

export interface Render {
  /** Repository-relative folder. */
  readonly dir: string
  readonly objects: ReadonlyArray<K8sObject>
  readonly remote: ReadonlyArray<string>
  readonly error: string | undefined
}

export interface Kustomization {
  readonly dir: string
  readonly kind: "Kustomization" | "Component"
  readonly content: Record<string, any>
}

const skipDirs = new Set(["node_modules", ".git"])

/** Every kustomization.yaml under the given repository folders. */
export const findKustomizations = (root: string, tops: ReadonlyArray<string>): Array<Kustomization> => {
  const found: Array<Kustomization> = []
  const walk = (rel: string) => {
    const abs = path.join(root, rel)
    if (!fs.existsSync(abs)) return
    const file = path.join(abs, "kustomization.yaml")
    if (fs.existsSync(file)) {
      const content = (parseDocument(fs.readFileSync(file, "utf8")).toJS() ?? {}) as Record<string, any>
      found.push({ dir: rel, kind: content.kind === "Component" ? "Component" : "Kustomization", content })
    }
    for (const entry of fs.readdirSync(abs, { withFileTypes: true }))
      if (entry.isDirectory() && !skipDirs.has(entry.name)) walk(path.posix.join(rel, entry.name))
  }
  tops.forEach(walk)
  return found.sort((a, b) => a.dir.localeCompare(b.dir))
}

export const isRemote = (resource: string): boolean => /^(https?:\/\/|git@|github\.com\/|ssh:\/\/)/.test(resource)

/** The exact tag a remote URL is pinned to, or undefined for branches, `latest` or nothing. */
export const pinnedTag = (url: string): string | undefined => {
  if (/\/(main|master|HEAD|latest)\//.test(url) || /[?&]ref=(main|master|HEAD)\b/.test(url)) return undefined
  const ref = /[?&]ref=(v?\d+\.\d+\.\d+[\w.-]*)/.exec(url)
  if (ref) return ref[1]
  const segment = /\/(v?\d+\.\d+\.\d+[\w.-]*)\//.exec(url)
  return segment ? segment[1] : undefined
}

const parseObjects = (text: string): Array<K8sObject> =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === "object")

const kustomize = (dir: string): string =>
  execFileSync("kubectl", ["kustomize", dir], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 << 20
  })

const errorText = (error: unknown): string => {
  const e = error as { stderr?: string | Buffer; message?: string }
  const text = (e.stderr ? String(e.stderr) : (e.message ?? String(error))).trim()
  return text.split("\n").slice(0, 6).join(" ").replace(/\s+/g, " ")
}

/** Stand-ins for the objects the patch files of a kustomization target (identity only). */
const standIns = (abs: string, content: Record<string, any>): Array<Record<string, unknown>> => {
  const out: Array<Record<string, unknown>> = []
  for (const patch of (content.patches ?? []) as Array<{ path?: string }>) {
    if (!patch.path) continue
    for (const o of parseObjects(fs.readFileSync(path.join(abs, patch.path), "utf8")))
      out.push({
        apiVersion: o.apiVersion,
        kind: o.kind,
        metadata: { name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) }
      })
  }
  return out
}

/** Renders one kustomization folder (repository-relative). */
export const render = (root: string, k: Kustomization): Render => {
  const abs = path.join(root, k.dir)
  const resources = (k.content.resources ?? []) as Array<string>
  const remote = resources.filter(isRemote)
  try {
    if (remote.length === 0) return { dir: k.dir, objects: parseObjects(kustomize(abs)), remote, error: undefined }
    // offline: a copy of the folder without the remote resources, plus stand-ins for patched objects
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-offline-"))
    try {
      fs.cpSync(abs, tmp, { recursive: true })
      const stand = standIns(abs, k.content)
      const local = resources.filter((r) => !isRemote(r))
      if (stand.length > 0) {
        fs.writeFileSync(path.join(tmp, "remote-stand-ins.yaml"), stand.map((o) => stringify(o)).join("---\n"))
        local.push("remote-stand-ins.yaml")
      }
      if (local.length === 0) return { dir: k.dir, objects: [], remote, error: undefined }
      fs.writeFileSync(path.join(tmp, "kustomization.yaml"), stringify({ ...k.content, resources: local }))
      return { dir: k.dir, objects: parseObjects(kustomize(tmp)), remote, error: undefined }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true })
    }
  } catch (error) {
    return { dir: k.dir, objects: [], remote, error: errorText(error) }
  }
}
