/**
 * Policy checks on rendered environments: what a platform team enforces on every workload.
 * Each violation names the render folder, the object and the rule.
 */
import { kafkaPartitions } from "../generate.ts"
import { findService, platform } from "../registry.ts"
import type { K8sObject } from "./render.ts"

export type Labels = Readonly<Record<string, string>>

const id = (o: K8sObject) => `${o.kind} ${o.metadata.namespace ?? "-"}/${o.metadata.name}`

export const matches = (selector: Labels | undefined, labels: Labels | undefined): boolean =>
  selector !== undefined && Object.entries(selector).every(([k, v]) => labels?.[k] === v)

const podSpecOf = (o: K8sObject): { spec: any; labels: Labels } | undefined => {
  if (["Deployment", "StatefulSet", "DaemonSet", "Job"].includes(o.kind))
    return { spec: o.spec?.template?.spec, labels: o.spec?.template?.metadata?.labels ?? {} }
  if (o.kind === "CronJob")
    return {
      spec: o.spec?.jobTemplate?.spec?.template?.spec,
      labels: o.spec?.jobTemplate?.spec?.template?.metadata?.labels ?? {}
    }
  return undefined
}

const digestPattern = /@sha256:[a-f0-9]{64}$/

/** Pod-level rules: images, resources, restricted security context, probes. */
const workloadRules = (o: K8sObject): Array<string> => {
  const pod = podSpecOf(o)
  if (!pod?.spec) return []
  const out: Array<string> = []
  const spec = pod.spec
  const podSc = spec.securityContext ?? {}
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) out.push(`${id(o)}: uses the host network/PID/IPC namespace`)
  for (const v of spec.volumes ?? []) if (v.hostPath) out.push(`${id(o)}: hostPath volume '${v.name}'`)
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])]
  for (const c of containers) {
    const where = `${id(o)} container ${c.name}`
    const image = String(c.image ?? "")
    const tag = /:([^/@]+)(@|$)/.exec(image)?.[1]
    if (!tag) out.push(`${where}: image '${image}' has no tag`)
    else if (tag === "latest") out.push(`${where}: image '${image}' uses the tag latest`)
    if (!digestPattern.test(image)) out.push(`${where}: image '${image}' is not pinned by digest`)
    if (image.startsWith("microbank/")) out.push(`${where}: image '${image}' is the base placeholder (no env pin)`)
    const r = c.resources ?? {}
    if (!r.requests?.cpu || !r.requests?.memory) out.push(`${where}: resources.requests cpu and memory are required`)
    if (!r.limits?.memory) out.push(`${where}: resources.limits.memory is required`)
    const sc = c.securityContext ?? {}
    if (sc.privileged) out.push(`${where}: privileged`)
    if (sc.allowPrivilegeEscalation !== false)
      out.push(`${where}: securityContext.allowPrivilegeEscalation must be false`)
    if (!(sc.capabilities?.drop ?? []).includes("ALL"))
      out.push(`${where}: securityContext.capabilities.drop must include ALL`)
    if (sc.readOnlyRootFilesystem !== true) out.push(`${where}: securityContext.readOnlyRootFilesystem must be true`)
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) out.push(`${where}: runAsNonRoot must be true`)
    if ((sc.runAsUser ?? podSc.runAsUser) === 0) out.push(`${where}: runs as uid 0`)
    const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost")
      out.push(`${where}: seccompProfile must be RuntimeDefault (pod or container)`)
    for (const e of c.env ?? [])
      if (typeof e.value === "string" && /:\/\/[^/\s:@]+:[^@\s]+@/.test(e.value))
        out.push(`${where}: env ${e.name} holds credentials in plain text`)
    if (o.kind === "Deployment" || o.kind === "StatefulSet") {
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        const p = c[probe]
        if (!p) out.push(`${where}: ${probe} is required`)
        else if (p.httpGet && !String(p.httpGet.path ?? "").startsWith("/health/"))
          out.push(`${where}: ${probe} must probe /health/*, not ${p.httpGet.path}`)
      }
      if (c.readinessProbe?.httpGet?.path && c.readinessProbe.httpGet.path !== "/health/ready")
        out.push(`${where}: readinessProbe must use /health/ready`)
      if (c.livenessProbe?.httpGet?.path && c.livenessProbe.httpGet.path !== "/health/live")
        out.push(`${where}: livenessProbe must use /health/live`)
    }
  }
  return out
}

const isDefaultDeny = (np: K8sObject) =>
  Object.keys(np.spec?.podSelector?.matchLabels ?? {}).length === 0 &&
  !np.spec?.podSelector?.matchExpressions &&
  (np.spec?.policyTypes ?? []).includes("Ingress") &&
  (np.spec?.policyTypes ?? []).includes("Egress") &&
  !(np.spec?.ingress?.length > 0) &&
  !(np.spec?.egress?.length > 0)

/**
 * Rules over a whole environment render (gitops/envs/<env>): every Deployment covered by a
 * namespace default-deny plus an allow rule, a PDB, a Service+ServiceMonitor, exactly one
 * autoscaler (a KEDA ScaledObject, never a second HPA) and no `replicas` where KEDA scales it.
 */
export const environmentRules = (
  dir: string,
  objects: ReadonlyArray<K8sObject>,
  options: { readonly standby: boolean; readonly monitoringLabel: Labels }
): Array<string> => {
  const out: Array<string> = []
  const v = (message: string) => out.push(`${dir}: ${message}`)
  const of = (kind: string) => objects.filter((o) => o.kind === kind)
  const ns = (o: K8sObject) => o.metadata.namespace ?? ""
  for (const o of objects) workloadRules(o).forEach(v)
  for (const o of objects) {
    if (o.kind === "Secret" && (o.data || o.stringData))
      v(`${id(o)}: Secret values must not be in git (use an ExternalSecret)`)
    if (o.kind === "ConfigMap")
      for (const [key, value] of Object.entries((o.data ?? {}) as Record<string, string>))
        if (/:\/\/[^/\s:@]+:[^@\s]+@/.test(value)) v(`${id(o)}: key ${key} holds credentials in plain text`)
    if (
      ["ServiceMonitor", "PodMonitor", "PrometheusRule"].includes(o.kind) &&
      !matches(options.monitoringLabel, o.metadata.labels)
    )
      v(`${id(o)}: missing label(s) ${JSON.stringify(options.monitoringLabel)} that kube-prometheus-stack selects on`)
  }
  const policies = of("NetworkPolicy")
  const scaledObjects = of("ScaledObject")
  const hpas = of("HorizontalPodAutoscaler")
  for (const d of of("Deployment")) {
    const podLabels = d.spec?.template?.metadata?.labels ?? {}
    const inNs = policies.filter((p) => ns(p) === ns(d))
    if (!inNs.some(isDefaultDeny)) v(`${id(d)}: namespace ${ns(d)} has no default-deny NetworkPolicy`)
    if (
      !inNs.some(
        (p) =>
          !isDefaultDeny(p) &&
          Object.keys(p.spec?.podSelector?.matchLabels ?? {}).length > 0 &&
          matches(p.spec.podSelector.matchLabels, podLabels)
      )
    )
      v(`${id(d)}: no NetworkPolicy allow rule selects its pods`)
    if (!of("PodDisruptionBudget").some((p) => ns(p) === ns(d) && matches(p.spec?.selector?.matchLabels, podLabels)))
      v(`${id(d)}: no PodDisruptionBudget selects its pods`)
    const svc = of("Service").find((s) => ns(s) === ns(d) && matches(s.spec?.selector, podLabels))
    if (!svc) v(`${id(d)}: no Service selects its pods`)
    else if (
      !of("ServiceMonitor").some((m) => ns(m) === ns(d) && matches(m.spec?.selector?.matchLabels, svc.metadata.labels))
    )
      v(`${id(d)}: no ServiceMonitor scrapes Service ${svc.metadata.name}`)
    const scalers = scaledObjects.filter((s) => ns(s) === ns(d) && s.spec?.scaleTargetRef?.name === d.metadata.name)
    const hpaFor = hpas.filter((h) => ns(h) === ns(d) && h.spec?.scaleTargetRef?.name === d.metadata.name)
    if (scalers.length + hpaFor.length !== 1)
      v(`${id(d)}: needs exactly one autoscaler, has ${scalers.length} ScaledObject(s) and ${hpaFor.length} HPA(s)`)
    if (scalers.length > 0 && d.spec?.replicas !== undefined) v(`${id(d)}: sets replicas although KEDA scales it`)
    const service = findService(d.metadata.name)
    const so = scalers[0]
    if (service && so) {
      const triggers = (so.spec?.triggers ?? []) as Array<{ type: string; metadata?: Record<string, string> }>
      if (!triggers.some((t) => t.type === "cpu")) v(`${id(so)}: no cpu trigger`)
      for (const want of service.scaleOn) {
        const t = triggers.find((x) => x.type === want.type)
        if (!t) v(`${id(so)}: no ${want.type} trigger (registry: ${JSON.stringify(want)})`)
        else if (want.type === "rabbitmq" && t.metadata?.queueName !== want.queue)
          v(`${id(so)}: rabbitmq trigger watches '${t.metadata?.queueName}', registry says '${want.queue}'`)
        else if (want.type === "kafka") {
          if (t.metadata?.topic !== want.topic || t.metadata?.consumerGroup !== want.group)
            v(
              `${id(so)}: kafka trigger watches ${t.metadata?.topic}/${t.metadata?.consumerGroup}, registry says ${want.topic}/${want.group}`
            )
          if ((so.spec?.maxReplicaCount ?? 100) > kafkaPartitions)
            v(
              `${id(so)}: maxReplicaCount ${so.spec.maxReplicaCount} exceeds the ${kafkaPartitions} partitions of ${want.topic}`
            )
        }
      }
      const paused = so.metadata.annotations?.["autoscaling.keda.sh/paused-replicas"]
      if (options.standby && paused !== "0") v(`${id(so)}: a standby environment must pause it at 0 replicas`)
      if (!options.standby && paused !== undefined) v(`${id(so)}: paused (${paused}) outside a standby environment`)
    }
  }
  for (const job of of("Job")) {
    if (options.standby) v(`${id(job)}: a standby environment must not run migrations (read-only replica)`)
    else if (job.metadata.annotations?.["argocd.argoproj.io/hook"] !== "PreSync")
      v(`${id(job)}: a migration Job must be an Argo CD PreSync hook`)
  }
  if (!options.standby)
    for (const s of of("Deployment")) {
      const spec = findService(s.metadata.name)
      if (spec?.database && !of("Job").some((j) => j.metadata.labels?.app === spec.name))
        v(`${id(s)}: owns a database but has no migration Job`)
    }
  for (const s of of("ScaledObject"))
    if (!of("Deployment").some((d) => ns(d) === ns(s) && d.metadata.name === s.spec?.scaleTargetRef?.name))
      v(`${id(s)}: scales ${s.spec?.scaleTargetRef?.name}, which is not in this environment`)
  for (const n of of("Namespace"))
    if (
      n.metadata.name.startsWith("microbank") &&
      n.metadata.labels?.["pod-security.kubernetes.io/enforce"] !== "restricted"
    )
      v(`${id(n)}: must enforce Pod Security 'restricted'`)
  for (const name of [platform.appNamespace, platform.dataNamespace])
    if (!of("Namespace").some((n) => n.metadata.name === name)) v(`namespace ${name} is not declared`)
  return out
}
