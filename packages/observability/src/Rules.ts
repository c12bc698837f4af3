/**
 * Microbank's recording and alert rules, rendered into the PrometheusRule
 * `gitops/platform/monitoring/microbank-rules.yaml`. Every alert has a summary, a description
 * and a runbook section in docs/runbooks/alerts.md (`#<alert name in lower case>`).
 */
import { platform, repository } from "../../gitops-tools/src/registry.ts"
import { clusterOnly, type Source } from "./Grafana.ts"

/** Latency SLO: 99% of API requests (health probes excluded) faster than 500 ms, over 30 days. */
export const sloTarget = 0.99
/** A bucket boundary of troupe_http_request_duration_seconds (the runtime's latencyBuckets). */
export const sloLatencyThreshold = 0.5

export const runbook = `${repository.url.replace(/\.git$/, "")}/blob/${repository.branch}/docs/runbooks/alerts.md`

export interface RecordingRule {
  readonly record: string
  readonly expr: string
}

export interface AlertRule {
  readonly alert: string
  readonly expr: string
  /** How long the expression must hold before the alert fires (none: at once). */
  readonly for?: string
  readonly severity: "critical" | "warning"
  readonly summary: string
  readonly description: string
  /** Where the series the expression needs come from (see Grafana.Source). */
  readonly source?: Source
}

export interface RuleGroup {
  readonly name: string
  readonly rules: ReadonlyArray<RecordingRule | AlertRule>
}

const api = 'route!~"/health/.*"'
const windows = ["5m", "30m", "1h", "6h"] as const
const budget = Number((1 - sloTarget).toFixed(6))

const requests = (w: string, ...filters: ReadonlyArray<string>) =>
  `sum by (namespace, service) (rate(troupe_http_requests_total{${[api, ...filters].join(", ")}}[${w}]))`

const slo: RuleGroup = {
  name: "microbank.slo.rules",
  rules: [
    { record: "service:troupe_http_requests:rate5m", expr: requests("5m") },
    {
      // `or ... * 0`: 0 rather than nothing while a service has never answered 5xx
      record: "service:troupe_http_errors:ratio_rate5m",
      expr: `(${requests("5m", 'status="5xx"')} or ${requests("5m")} * 0) / ${requests("5m")}`
    },
    ...windows.map((w) => ({
      record: `service:troupe_http_slow:ratio_rate${w}`,
      expr: `1 - (sum by (namespace, service) (rate(troupe_http_request_duration_seconds_bucket{${api}, le="${sloLatencyThreshold}"}[${w}])) / sum by (namespace, service) (rate(troupe_http_request_duration_seconds_count{${api}}[${w}])))`
    }))
  ]
}

const burn = (long: string, short: string, factor: number) =>
  `service:troupe_http_slow:ratio_rate${long} > (${factor} * ${budget})\nand\nservice:troupe_http_slow:ratio_rate${short} > (${factor} * ${budget})`

const kubeStateMetrics = clusterOnly("needs kube-state-metrics")
const rabbitmqExporter = clusterOnly(
  "needs RabbitMQ's Prometheus plugin (ServiceMonitor microbank-data/microbank-rabbitmq)"
)
const ns = platform.appNamespace

const http: RuleGroup = {
  name: "microbank.http",
  rules: [
    {
      alert: "MicrobankHighErrorRatio",
      expr: "service:troupe_http_errors:ratio_rate5m > 0.05\nand\nservice:troupe_http_requests:rate5m > 0.1",
      for: "5m",
      severity: "critical",
      summary: "{{ $labels.service }} answers {{ $value | humanizePercentage }} of its API requests with 5xx",
      description:
        "More than 5% of the API requests of {{ $labels.service }} in {{ $labels.namespace }} have failed with a server error for 5 minutes (health probes excluded)."
    },
    {
      alert: "MicrobankLatencyBudgetBurnFast",
      expr: burn("1h", "5m", 14.4),
      for: "2m",
      severity: "critical",
      summary: "{{ $labels.service }} burns its latency error budget 14× too fast",
      description: `Over the last hour and the last 5 minutes more than ${(14.4 * budget * 100).toFixed(1)}% of the API requests of {{ $labels.service }} took longer than ${sloLatencyThreshold * 1000} ms (SLO: ${sloTarget * 100}% faster). At this rate the 30-day budget is gone in about 2 days.`
    },
    {
      alert: "MicrobankLatencyBudgetBurnSlow",
      expr: burn("6h", "30m", 6),
      for: "15m",
      severity: "warning",
      summary: "{{ $labels.service }} burns its latency error budget 6× too fast",
      description: `Over the last 6 hours and the last 30 minutes more than ${(6 * budget * 100).toFixed(1)}% of the API requests of {{ $labels.service }} took longer than ${sloLatencyThreshold * 1000} ms. At this rate the 30-day budget is gone in 5 days.`
    },
    {
      alert: "MicrobankScrapeTargetDown",
      expr: `up{namespace="${ns}"} == 0`,
      for: "5m",
      severity: "warning",
      summary: "Prometheus cannot scrape {{ $labels.service }} pod {{ $labels.pod }}",
      description:
        "The /metrics endpoint of {{ $labels.pod }} ({{ $labels.instance }}) has not answered for 5 minutes: the process hangs, is overloaded, or the network path is broken."
    },
    {
      alert: "MicrobankServiceDown",
      expr: `kube_deployment_spec_replicas{namespace="${ns}"} > 0\nunless on (namespace, deployment)\nlabel_replace(sum by (namespace, service) (up{namespace="${ns}"} == 1), "deployment", "$1", "service", "(.*)")`,
      for: "5m",
      severity: "critical",
      summary: "No pod of {{ $labels.deployment }} is up",
      description:
        "{{ $labels.deployment }} should run {{ $value }} replica(s) but Prometheus has scraped none of them for 5 minutes: the service is down.",
      source: kubeStateMetrics
    },
    {
      alert: "MicrobankPodNotReady",
      expr: `sum by (namespace, pod) (kube_pod_status_ready{namespace=~"${ns}|${platform.dataNamespace}", condition="false"})\n* on (namespace, pod) group_left ()\n(max by (namespace, pod) (kube_pod_status_phase{phase="Running"}) == 1)\n> 0`,
      for: "10m",
      severity: "warning",
      summary: "Pod {{ $labels.namespace }}/{{ $labels.pod }} is running but not ready",
      description:
        "{{ $labels.pod }} has failed its readiness probe for 10 minutes, so it receives no traffic. For Microbank services /health/ready names the failing check (database, broker, consumers, migrations).",
      source: kubeStateMetrics
    }
  ]
}

const messaging: RuleGroup = {
  name: "microbank.messaging",
  rules: [
    {
      alert: "MicrobankDeadLettered",
      // consumers export the series at 0 from start; one born at its first increment (an older pod)
      // is caught by `unless ... offset`, but only when it is above 0
      expr: "sum by (namespace, service, consumer, reason) (increase(troupe_messages_dead_lettered_total[15m])) > 0\nor\n(sum by (namespace, service, consumer, reason) (troupe_messages_dead_lettered_total) > 0\nunless sum by (namespace, service, consumer, reason) (troupe_messages_dead_lettered_total offset 15m))",
      severity: "warning",
      summary: "{{ $labels.consumer }} dead-lettered messages ({{ $labels.reason }})",
      description:
        "Consumer {{ $labels.consumer }} of {{ $labels.service }} moved messages to {{ $labels.consumer }}.dlq in the last 15 minutes (reason {{ $labels.reason }}: poison = undecodable, exhausted = the handler kept failing). Their effects did not happen."
    },
    {
      alert: "MicrobankDeadLetterQueueGrowing",
      expr: `max by (namespace, vhost, queue) (rabbitmq_detailed_queue_messages{queue=~".+[.]dlq"}) > 0\nand\nmax by (namespace, vhost, queue) (delta(rabbitmq_detailed_queue_messages{queue=~".+[.]dlq"}[30m])) > 0`,
      severity: "warning",
      summary: "Dead-letter queue {{ $labels.vhost }}/{{ $labels.queue }} is growing",
      description:
        "{{ $labels.queue }} holds messages and received more in the last 30 minutes, including those the broker dead-lettered itself after 20 redeliveries.",
      source: rabbitmqExporter
    },
    {
      alert: "MicrobankOutboxStalled",
      expr: "max by (namespace, service) (troupe_outbox_oldest_age_seconds) > 30",
      for: "5m",
      severity: "warning",
      summary: "{{ $labels.service }} has not published its events for {{ $value | humanizeDuration }}",
      description:
        "The oldest event in the outbox of {{ $labels.service }} has waited more than 30 s for 5 minutes: the relay cannot publish (broker down or refusing, permissions) and consumers such as notifications fall behind. Nothing is lost: the events stay in the outbox."
    },
    {
      alert: "MicrobankOutboxNoRelayLeader",
      expr: "sum by (namespace, service) (troupe_outbox_relay_leader) == 0",
      for: "5m",
      severity: "warning",
      summary: "No pod of {{ $labels.service }} relays its outbox",
      description:
        "No process of {{ $labels.service }} has held the outbox relay lease for 5 minutes, so its events are not published and the outbox age metric is no longer updated."
    },
    {
      alert: "MicrobankConsumerNotSubscribed",
      expr: "troupe_consumers_active == 0",
      for: "5m",
      severity: "warning",
      summary: "Consumer {{ $labels.consumer }} on {{ $labels.pod }} is not subscribed",
      description:
        "The supervised consumer {{ $labels.consumer }} of {{ $labels.service }} has not been subscribed to its queue for 5 minutes (it keeps failing to start): this pod processes no messages and reports not ready."
    },
    {
      alert: "MicrobankQueueBacklogHigh",
      expr: `sum by (namespace, vhost, queue) (rabbitmq_detailed_queue_messages_ready{queue!~".+[.]dlq"}) > 1000`,
      for: "10m",
      severity: "warning",
      summary: "Queue {{ $labels.vhost }}/{{ $labels.queue }} holds {{ $value }} messages",
      description:
        "More than 1000 messages have waited in {{ $labels.queue }} for 10 minutes: consumers are down, too slow, or KEDA cannot scale them.",
      source: rabbitmqExporter
    },
    {
      alert: "MicrobankKafkaConsumerLagHigh",
      expr: "sum by (namespace, service, group, topic) (troupe_kafka_consumer_lag) > 1000",
      for: "10m",
      severity: "warning",
      summary: "Consumer group {{ $labels.group }} lags {{ $value }} messages behind on {{ $labels.topic }}",
      description:
        "The members of consumer group {{ $labels.group }} ({{ $labels.service }}) report more than 1000 uncommitted messages on {{ $labels.topic }} for 10 minutes."
    }
  ]
}

const runtime: RuleGroup = {
  name: "microbank.runtime",
  rules: [
    {
      alert: "MicrobankActorRestartStorm",
      expr: "sum by (namespace, service, pod, actor) (increase(troupe_actor_restarts_total[15m])) > 5",
      severity: "warning",
      summary:
        "Actor {{ $labels.actor }} of {{ $labels.service }} restarted {{ $value | humanize }} times in 15 minutes",
      description:
        "The supervised actor {{ $labels.actor }} on {{ $labels.pod }} keeps failing and restarting with backoff; the failure is in its log line 'actor ... failed; restarting'."
    },
    {
      alert: "MicrobankEventLoopLagHigh",
      expr: "max by (namespace, service, pod) (nodejs_eventloop_lag_p99_seconds) > 0.5",
      for: "10m",
      severity: "warning",
      summary: "Event loop of {{ $labels.pod }} lags {{ $value | humanizeDuration }}",
      description:
        "Ready work on {{ $labels.pod }} waits more than 0.5 s (p99) for the event loop: CPU saturation or blocking synchronous code; every request of the pod is slow."
    }
  ]
}

export const groups: ReadonlyArray<RuleGroup> = [slo, http, messaging, runtime]

export const isAlert = (r: RecordingRule | AlertRule): r is AlertRule => "alert" in r

export const alerts: ReadonlyArray<AlertRule> = groups.flatMap((g) => g.rules.filter(isAlert))

/** The anchor of an alert's section in docs/runbooks/alerts.md (its heading is the alert name). */
export const anchor = (alert: string) => alert.toLowerCase()

/** The `spec.groups` of the PrometheusRule (also a plain Prometheus rule file). */
export const ruleFile = (options: { readonly annotations?: boolean } = {}) => ({
  groups: groups.map((g) => ({
    name: g.name,
    rules: g.rules.map((r) =>
      isAlert(r)
        ? {
            alert: r.alert,
            expr: r.expr,
            ...(r.for ? { for: r.for } : {}),
            labels: { severity: r.severity },
            ...(options.annotations === false
              ? {}
              : {
                  annotations: {
                    summary: r.summary,
                    description: r.description,
                    runbook_url: `${runbook}#${anchor(r.alert)}`
                  }
                })
          }
        : { record: r.record, expr: r.expr }
    )
  }))
})

export const prometheusRule = () => ({
  apiVersion: "monitoring.coreos.com/v1",
  kind: "PrometheusRule",
  metadata: {
    name: "microbank-observability",
    namespace: platform.appNamespace,
    labels: { "app.kubernetes.io/part-of": "microbank", release: "kube-prometheus-stack" }
  },
  spec: ruleFile()
})
