/**
 * A Prometheus scrape configuration for processes running outside Kubernetes (stack mode), made
 * from the same source as the cluster's ServiceMonitors: the registry of gitops-tools and the
 * ServiceMonitor/Service/Deployment it generates. Targets get the labels the Prometheus Operator
 * gives a ServiceMonitor target (job and service = the Service's name, namespace, pod, container,
 * endpoint), so dashboards and rules see the same series locally and in the cluster.
 */
import { parse } from "yaml"
import { baseFiles } from "../../gitops-tools/src/generate.ts"
import { findService, platform, services } from "../../gitops-tools/src/registry.ts"

export interface Endpoint {
  readonly path: string
  readonly scheme: string
  /** The ServiceMonitor's port name, resolved through the Service to the container port. */
  readonly port: string
  readonly containerPort: number
  /** The cluster's scrape interval. */
  readonly interval: string
}

/** What the generated ServiceMonitor of a registry service scrapes. */
export const endpointOf = (name: string): Endpoint => {
  const spec = findService(name)
  if (!spec) throw new Error(`${name} is not a service of the registry`)
  const files = baseFiles(spec)
  const monitor = parse(files["servicemonitor.yaml"]!)
  const service = parse(files["service.yaml"]!)
  const deployment = parse(files["deployment.yaml"]!)
  const endpoint = monitor.spec.endpoints[0]
  const servicePort = service.spec.ports.find((p: { name: string }) => p.name === endpoint.port)
  if (!servicePort) throw new Error(`ServiceMonitor ${name} scrapes port ${endpoint.port}, which Service ${name} lacks`)
  const containerPort = deployment.spec.template.spec.containers[0].ports.find(
    (p: { name: string }) => p.name === servicePort.targetPort
  )
  if (!containerPort)
    throw new Error(`Service ${name} targets port ${servicePort.targetPort}, which the container does not declare`)
  return {
    path: endpoint.path ?? "/metrics",
    scheme: endpoint.scheme ?? "http",
    port: endpoint.port,
    containerPort: containerPort.containerPort,
    interval: endpoint.interval ?? "30s"
  }
}

export interface Target {
  readonly service: string
  /** Stands in for the pod name: `<service>-<n>`. */
  readonly pod: string
  /** host:port of the process. */
  readonly address: string
}

export interface ScrapeOptions {
  /** Scrape and rule evaluation interval (the cluster scrapes every 30 s; tests use 1 s). */
  readonly interval: string
  readonly ruleFiles?: ReadonlyArray<string>
}

/** A prometheus.yml scraping the given processes like the ServiceMonitors scrape their pods. */
export const scrapeConfig = (targets: ReadonlyArray<Target>, options: ScrapeOptions) => {
  for (const t of targets) if (!findService(t.service)) throw new Error(`${t.service} is not a service of the registry`)
  return {
    global: {
      scrape_interval: options.interval,
      evaluation_interval: options.interval,
      scrape_timeout: options.interval
    },
    rule_files: [...(options.ruleFiles ?? [])],
    scrape_configs: services
      .filter((s) => targets.some((t) => t.service === s.name))
      .map((s) => {
        const endpoint = endpointOf(s.name)
        return {
          job_name: s.name,
          metrics_path: endpoint.path,
          scheme: endpoint.scheme,
          static_configs: targets
            .filter((t) => t.service === s.name)
            .map((t) => ({
              targets: [t.address],
              labels: {
                namespace: platform.appNamespace,
                service: s.name,
                pod: t.pod,
                container: s.name,
                endpoint: endpoint.port
              }
            }))
        }
      })
  }
}
