/**
 * Schema validation of rendered objects: the kubernetes-models packages for Kubernetes itself and
 * the operators that publish models (Argo CD, KEDA, prometheus-operator, Strimzi, CloudNativePG,
 * Gateway API, Envoy Gateway, cert-manager). For the two CRD families without a model package
 * (rabbitmq.com, external-secrets.io) `crd-subsets.ts` holds hand-written structural schemas of
 * the fields we use. An object of a kind nothing knows is a violation, never a silent pass.
 */
import { crdSubsets, checkSubset } from "./crd-subsets.ts"
import type { K8sObject } from "./render.ts"

interface ModelClass {
  readonly apiVersion: string
  readonly kind: string
  new (data: unknown): { validate(): void }
}

const modelPackages = [
  "kubernetes-models",
  "@kubernetes-models/argo-cd",
  "@kubernetes-models/keda",
  "@kubernetes-models/prometheus-operator",
  "@kubernetes-models/strimzi-kafka-operator",
  "@kubernetes-models/cloudnative-pg",
  "@kubernetes-models/gateway-api",
  "@kubernetes-models/envoy-gateway",
  "@kubernetes-models/cert-manager"
]

let models: Map<string, ModelClass> | undefined

const isModel = (value: unknown): value is ModelClass =>
  typeof value === "function" &&
  typeof (value as { apiVersion?: unknown }).apiVersion === "string" &&
  typeof (value as { kind?: unknown }).kind === "string"

const collect = (value: unknown, into: Map<string, ModelClass>, seen: Set<unknown>) => {
  if (value === null || typeof value !== "object" || seen.has(value)) return
  seen.add(value)
  for (const entry of Object.values(value as Record<string, unknown>)) {
    if (isModel(entry)) into.set(`${entry.apiVersion}/${entry.kind}`, entry)
    else collect(entry, into, seen)
  }
}

export const loadModels = async (): Promise<Map<string, ModelClass>> => {
  if (models) return models
  const found = new Map<string, ModelClass>()
  const seen = new Set<unknown>()
  for (const name of modelPackages) collect(await import(name), found, seen)
  models = found
  return found
}

const describe = (o: K8sObject) =>
  `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`

/** Schema violations of one object (empty when valid). */
export const schemaViolations = async (o: K8sObject): Promise<Array<string>> => {
  if (!o || typeof o.apiVersion !== "string" || typeof o.kind !== "string" || !o.metadata?.name)
    return [`object without apiVersion/kind/metadata.name: ${JSON.stringify(o).slice(0, 120)}`]
  const key = `${o.apiVersion}/${o.kind}`
  const subset = crdSubsets[key]
  if (subset) return checkSubset(subset, o, "").map((e) => `${describe(o)} (${key}): ${e}`)
  const model = (await loadModels()).get(key)
  if (!model) return [`${describe(o)}: no schema known for ${key}`]
  try {
    new model(o).validate()
    return []
  } catch (error) {
    const e = error as { message?: string; errors?: Array<{ instancePath: string; message?: string }> }
    const details = e.errors?.length
      ? e.errors.slice(0, 5).map((x) => `${x.instancePath || "/"} ${x.message ?? ""}`.trim())
      : [e.message ?? String(error)]
    return details.map((d) => `${describe(o)} (${key}): ${d}`)
  }
}
