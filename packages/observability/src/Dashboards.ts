/**
 * Microbank's Grafana dashboards: overview (RED per service), business, system health and
 * messaging. One source of truth: `generate.ts` renders them into
 * `gitops/platform/monitoring/dashboards/*.json`, the stack test evaluates every query.
 *
 * Variables: `namespace` (one) and `service` (several, or All). Queries select
 * `namespace="$namespace", service=~"$service"`; `$__rate_interval` and `$__range` are Grafana's.
 */
import { clusterOnly, type DashboardSpec, type PanelSpec, type VariableSpec } from "./Grafana.ts"
import { sloLatencyThreshold, sloTarget } from "./Rules.ts"

export const uids = {
  overview: "microbank-overview",
  business: "microbank-business",
  system: "microbank-system",
  messaging: "microbank-messaging"
} as const

const R = "$__rate_interval"
const scope = `namespace="$namespace", service=~"$service"`
/** Health probes are not user traffic: they stay out of the RED views and the SLIs. */
const api = `route!~"/health/.*"`
const sel = (metric: string, ...filters: ReadonlyArray<string>) => `${metric}{${[scope, ...filters].join(", ")}}`
const rate = (metric: string, ...filters: ReadonlyArray<string>) => `rate(${sel(metric, ...filters)}[${R}])`
const sumRate = (by: string, metric: string, ...filters: ReadonlyArray<string>) =>
  `sum${by ? ` by (${by})` : ""} (${rate(metric, ...filters)})`
/** part / total, 0 (not "no data") while the part has never happened. */
const ratio = (by: string, metric: string, part: string, ...filters: ReadonlyArray<string>) =>
  `(${sumRate(by, metric, part, ...filters)} or ${sumRate(by, metric, ...filters)} * 0) / ${sumRate(by, metric, ...filters)}`
const quantile = (q: number, by: string, metric: string, ...filters: ReadonlyArray<string>) =>
  `histogram_quantile(${q}, ${sumRate(by ? `${by}, le` : "le", `${metric}_bucket`, ...filters)})`

const variables: ReadonlyArray<VariableSpec> = [
  { name: "namespace", label: "Namespace", query: "label_values(troupe_http_requests_total, namespace)", multi: false },
  {
    name: "service",
    label: "Service",
    query: 'label_values(troupe_http_requests_total{namespace="$namespace"}, service)',
    multi: true
  }
]

const toSystem = { title: "System health", dashboard: uids.system }
const toMessaging = { title: "Messaging", dashboard: uids.messaging }
const toOverview = { title: "Overview", dashboard: uids.overview }
const toBusiness = { title: "Business", dashboard: uids.business }

const kubeStateMetrics = clusterOnly("kube-state-metrics (kube-prometheus-stack) describes pods and deployments")
const cadvisor = clusterOnly("the kubelet's cAdvisor metrics, scraped by kube-prometheus-stack")
const rabbitmqExporter = clusterOnly(
  "RabbitMQ's built-in Prometheus plugin (/metrics/detailed), enabled by the cluster operator and scraped by ServiceMonitor microbank-data/microbank-rabbitmq"
)
const kafkaExporter = clusterOnly(
  "Strimzi's Kafka Exporter (Kafka spec.kafkaExporter), scraped by PodMonitor microbank-data/microbank-kafka-exporter"
)
const cnpg = clusterOnly("CloudNativePG's metrics exporter, scraped by PodMonitor microbank-data/microbank-pg")

// ---------------------------------------------------------------------------------------------

const overview: DashboardSpec = {
  uid: uids.overview,
  title: "Microbank / Overview",
  description: "Rate, errors and duration of every service's HTTP API, and the latency SLO.",
  variables,
  rows: [
    {
      title: "Golden signals (selected services)",
      panels: [
        {
          title: "Requests",
          description: "API requests per second (health probes excluded).",
          kind: "stat",
          unit: "reqps",
          width: 5,
          queries: [{ expr: sumRate("", "troupe_http_requests_total", api) }]
        },
        {
          title: "5xx ratio",
          description: "Share of API requests answered with a 5xx status.",
          kind: "stat",
          unit: "percentunit",
          width: 5,
          thresholds: [
            [0.01, "yellow"],
            [0.05, "red"]
          ],
          queries: [{ expr: ratio("", "troupe_http_requests_total", 'status="5xx"', api) }]
        },
        {
          title: "p99 latency",
          description: "99th percentile of API request duration.",
          kind: "stat",
          unit: "s",
          width: 5,
          thresholds: [
            [sloLatencyThreshold / 2, "yellow"],
            [sloLatencyThreshold, "red"]
          ],
          queries: [{ expr: quantile(0.99, "", "troupe_http_request_duration_seconds", api) }]
        },
        {
          title: "Latency SLO burn (1h, worst service)",
          description: `How fast the error budget of the latency SLO (${sloTarget * 100}% of API requests under ${sloLatencyThreshold * 1000} ms) burns: 1 = exactly on budget over 30 days, 14.4 pages.`,
          kind: "stat",
          unit: "suffix:×",
          width: 5,
          thresholds: [
            [1, "yellow"],
            [6, "orange"],
            [14.4, "red"]
          ],
          queries: [{ expr: `max(service:troupe_http_slow:ratio_rate1h{${scope}}) / ${1 - sloTarget}` }]
        },
        {
          title: "Scrape targets up",
          description: "Share of the selected services' pods Prometheus can scrape.",
          kind: "stat",
          unit: "percentunit",
          width: 4,
          min: 0,
          max: 1,
          queries: [{ expr: `sum(up{${scope}}) / count(up{${scope}})` }],
          links: [toSystem]
        }
      ]
    },
    {
      title: "Traffic and errors",
      panels: [
        {
          title: "Requests by service",
          description: "API requests per second by service.",
          kind: "timeseries",
          unit: "reqps",
          stacked: true,
          queries: [{ expr: sumRate("service", "troupe_http_requests_total", api), legend: "{{service}}" }],
          links: [toSystem, toMessaging]
        },
        {
          title: "5xx ratio by service",
          description: "Share of API requests answered with 5xx. Alert MicrobankHighErrorRatio at 5% for 5 minutes.",
          kind: "timeseries",
          unit: "percentunit",
          min: 0,
          thresholds: [[0.05, "red"]],
          queries: [
            { expr: ratio("service", "troupe_http_requests_total", 'status="5xx"', api), legend: "{{service}}" }
          ]
        },
        {
          title: "4xx ratio by service",
          description:
            "Share of API requests refused as the client's fault (validation, auth, rate limits, insufficient funds).",
          kind: "timeseries",
          unit: "percentunit",
          min: 0,
          queries: [
            { expr: ratio("service", "troupe_http_requests_total", 'status="4xx"', api), legend: "{{service}}" }
          ]
        },
        {
          title: "Responses by status class",
          description: "API responses per second by status class.",
          kind: "timeseries",
          unit: "reqps",
          stacked: true,
          width: 12,
          queries: [{ expr: sumRate("status", "troupe_http_requests_total", api), legend: "{{status}}" }]
        },
        {
          title: "Scrape targets up by service",
          description: "Pods Prometheus scrapes successfully, by service.",
          kind: "timeseries",
          unit: "short",
          min: 0,
          width: 12,
          queries: [{ expr: `sum by (service) (up{${scope}})`, legend: "{{service}}" }]
        }
      ]
    },
    {
      title: "Latency",
      panels: [
        {
          title: "Latency by service (p50, p99)",
          description: "Percentiles of API request duration by service.",
          kind: "timeseries",
          unit: "s",
          queries: [
            { expr: quantile(0.5, "service", "troupe_http_request_duration_seconds", api), legend: "{{service}} p50" },
            { expr: quantile(0.99, "service", "troupe_http_request_duration_seconds", api), legend: "{{service}} p99" }
          ]
        },
        {
          title: `Requests slower than ${sloLatencyThreshold * 1000} ms`,
          description: `Share of API requests over the SLO threshold; the SLO allows ${((1 - sloTarget) * 100).toFixed(0)}%.`,
          kind: "timeseries",
          unit: "percentunit",
          min: 0,
          thresholds: [[1 - sloTarget, "red"]],
          queries: [
            {
              expr: `1 - ${sumRate("service", "troupe_http_request_duration_seconds_bucket", api, `le="${sloLatencyThreshold}"`)} / ${sumRate("service", "troupe_http_request_duration_seconds_count", api)}`,
              legend: "{{service}}"
            }
          ]
        },
        {
          title: "Latency SLO burn rate",
          description:
            "Error-budget burn of the latency SLO over 5 minutes and 1 hour (recording rules). Fast-burn alert: both above 14.4.",
          kind: "timeseries",
          unit: "suffix:×",
          min: 0,
          thresholds: [[14.4, "red"]],
          queries: [
            {
              expr: `service:troupe_http_slow:ratio_rate5m{${scope}} / ${1 - sloTarget}`,
              legend: "{{service}} 5m"
            },
            { expr: `service:troupe_http_slow:ratio_rate1h{${scope}} / ${1 - sloTarget}`, legend: "{{service}} 1h" }
          ]
        }
      ]
    },
    {
      title: "Routes",
      panels: [
        {
          title: "Routes: rate, 5xx ratio, p99",
          description: "Every API route of the selected services (templates like /accounts/:id, never raw paths).",
          kind: "table",
          unit: "short",
          width: 14,
          height: 10,
          columnUnits: ["reqps", "percentunit", "s"],
          queries: [
            { expr: sumRate("service, route, method", "troupe_http_requests_total", api), instant: true },
            {
              expr: ratio("service, route, method", "troupe_http_requests_total", 'status="5xx"', api),
              instant: true
            },
            {
              expr: quantile(0.99, "service, route, method", "troupe_http_request_duration_seconds", api),
              instant: true
            }
          ]
        },
        {
          title: "Slowest routes (p99)",
          description: "The ten routes with the highest 99th percentile duration.",
          kind: "timeseries",
          unit: "s",
          width: 10,
          height: 10,
          queries: [
            {
              expr: `topk(10, ${quantile(0.99, "service, route", "troupe_http_request_duration_seconds", api)})`,
              legend: "{{service}} {{route}}"
            }
          ]
        }
      ]
    }
  ]
}

// ---------------------------------------------------------------------------------------------

/** Business panels of purchases, ingest and jobs. */
const work: ReadonlyArray<PanelSpec> = [
  {
    title: "Purchases recorded",
    description: "Purchases stored by the purchases consumer group, per minute.",
    kind: "timeseries",
    unit: "opm",
    queries: [{ expr: `${sumRate("", "microbank_purchases_total")} * 60`, legend: "purchases" }],
    links: [toMessaging]
  },
  {
    title: "Purchase volume per minute",
    description: "Value of stored purchases per minute.",
    kind: "timeseries",
    unit: "currencyUSD",
    queries: [{ expr: `${sumRate("", "microbank_purchase_amount_minor_total")} * 60 / 100`, legend: "volume" }]
  },
  {
    title: "Ingested records",
    description: "Records accepted by the ingest API and stored by its batching worker, per second.",
    kind: "timeseries",
    unit: "recps",
    queries: [
      { expr: sumRate("", "microbank_ingest_accepted_total"), legend: "accepted" },
      { expr: sumRate("", "microbank_ingested_records_total"), legend: "stored" }
    ]
  },
  {
    title: "Jobs by state",
    description: "Jobs in each state (refreshed by the jobs service every 15 s).",
    kind: "timeseries",
    unit: "short",
    stacked: true,
    queries: [{ expr: `sum by (status) (${sel("microbank_jobs")})`, legend: "{{status}}" }]
  },
  {
    title: "Jobs started by kind",
    description: "Jobs started per minute, by kind (account statements, ingest summaries, analytics snapshots).",
    kind: "timeseries",
    unit: "opm",
    queries: [{ expr: `${sumRate("kind", "microbank_jobs_started_total")} * 60`, legend: "{{kind}}" }]
  }
]

const business: DashboardSpec = {
  uid: uids.business,
  title: "Microbank / Business",
  description: "What the bank does: money movements, customers, notifications, security events.",
  variables,
  rows: [
    {
      title: "Money",
      panels: [
        {
          title: "Transactions completed",
          description: "Deposits, withdrawals and transfers completed in the time range.",
          kind: "stat",
          unit: "short",
          width: 6,
          queries: [{ expr: `sum(increase(${sel("microbank_transactions_total", 'outcome="completed"')}[$__range]))` }]
        },
        {
          title: "Money moved",
          description: "Sum of completed deposits, withdrawals and transfers in the time range.",
          kind: "stat",
          unit: "currencyUSD",
          width: 6,
          queries: [{ expr: `sum(increase(${sel("microbank_transaction_amount_minor_total")}[$__range])) / 100` }]
        },
        {
          title: "Transaction success ratio",
          description:
            "Completed share of attempted money movements (refusals: insufficient funds, closed accounts...).",
          kind: "stat",
          unit: "percentunit",
          width: 6,
          queries: [
            {
              expr: `${sumRate("", "microbank_transactions_total", 'outcome="completed"')} / ${sumRate("", "microbank_transactions_total")}`
            }
          ]
        },
        {
          title: "Accounts opened",
          description: "Accounts opened in the time range.",
          kind: "stat",
          unit: "short",
          width: 6,
          queries: [{ expr: `sum(increase(${sel("microbank_accounts_opened_total")}[$__range]))` }]
        },
        {
          title: "Transactions by type and outcome",
          description: "Money movements per second by type (deposit, withdrawal, transfer) and outcome.",
          kind: "timeseries",
          unit: "ops",
          stacked: true,
          queries: [{ expr: sumRate("type, outcome", "microbank_transactions_total"), legend: "{{type}} {{outcome}}" }],
          links: [toOverview]
        },
        {
          title: "Money moved per minute by type",
          description: "Value of completed money movements per minute.",
          kind: "timeseries",
          unit: "currencyUSD",
          stacked: true,
          queries: [
            {
              expr: `${sumRate("type", "microbank_transaction_amount_minor_total")} * 60 / 100`,
              legend: "{{type}}"
            }
          ]
        },
        {
          title: "Accounts opened by type",
          description: "Accounts opened per minute by account type.",
          kind: "timeseries",
          unit: "opm",
          queries: [
            { expr: `${sumRate("account_type", "microbank_accounts_opened_total")} * 60`, legend: "{{account_type}}" }
          ]
        }
      ]
    },
    {
      title: "Customers",
      panels: [
        {
          title: "Users created by role",
          description: "Users created per minute (registrations and admin-created users).",
          kind: "timeseries",
          unit: "opm",
          queries: [{ expr: `${sumRate("role", "microbank_users_created_total")} * 60`, legend: "{{role}}" }]
        },
        {
          title: "Login attempts by outcome",
          description: "Password checks per minute by outcome.",
          kind: "timeseries",
          unit: "opm",
          queries: [{ expr: `${sumRate("outcome", "microbank_login_attempts_total")} * 60`, legend: "{{outcome}}" }]
        },
        {
          title: "Notifications stored by kind",
          description: "Notifications written per minute, by kind (welcome, deposit, transfer...).",
          kind: "timeseries",
          unit: "opm",
          queries: [{ expr: `${sumRate("kind", "microbank_notifications_stored_total")} * 60`, legend: "{{kind}}" }],
          links: [toMessaging]
        }
      ]
    },
    {
      title: "Security",
      panels: [
        {
          title: "Login failure ratio",
          description: "Share of password checks that failed (credential stuffing shows here first).",
          kind: "stat",
          unit: "percentunit",
          thresholds: [
            [0.2, "yellow"],
            [0.5, "red"]
          ],
          queries: [{ expr: ratio("", "microbank_login_attempts_total", 'outcome="failure"') }]
        },
        {
          title: "Requests rejected by authentication",
          description:
            "Requests without a valid token per minute, by reason (missing, malformed, expired, bad signature).",
          noValue: "0",
          kind: "timeseries",
          unit: "opm",
          queries: [{ expr: `${sumRate("reason", "microbank_auth_rejected_total")} * 60`, legend: "{{reason}}" }]
        },
        {
          title: "Requests refused by rate limits",
          description: "429 answers per minute by limit (per user, login per address, login per username...).",
          noValue: "0",
          kind: "timeseries",
          unit: "opm",
          queries: [{ expr: `${sumRate("limit", "microbank_rate_limited_total")} * 60`, legend: "{{limit}}" }]
        }
      ]
    },
    { title: "Purchases, ingest and jobs", panels: work }
  ]
}

// ---------------------------------------------------------------------------------------------

const podScope = `namespace="$namespace", pod=~"($service)-.*"`

const system: DashboardSpec = {
  uid: uids.system,
  title: "Microbank / System health",
  description: "Processes (Node.js/Deno runtime metrics), supervised actors and Kubernetes resources of every service.",
  variables,
  rows: [
    {
      title: "Processes",
      panels: [
        {
          title: "CPU by pod",
          description: "CPU time per second (1 = one core).",
          kind: "timeseries",
          unit: "percentunit",
          queries: [{ expr: sumRate("service, pod", "process_cpu_seconds_total"), legend: "{{pod}}" }],
          links: [toOverview]
        },
        {
          title: "Resident memory by pod",
          description: "Resident set size of each process.",
          kind: "timeseries",
          unit: "bytes",
          queries: [{ expr: `sum by (service, pod) (${sel("process_resident_memory_bytes")})`, legend: "{{pod}}" }]
        },
        {
          title: "Heap used by pod",
          description: "V8 heap in use (solid) of each process.",
          kind: "timeseries",
          unit: "bytes",
          queries: [{ expr: `sum by (service, pod) (${sel("nodejs_heap_size_used_bytes")})`, legend: "{{pod}}" }]
        },
        {
          title: "Event loop lag p99",
          description:
            "99th percentile of event loop delay: how long ready work waits. Alert above 0.5 s for 10 minutes.",
          kind: "timeseries",
          unit: "s",
          thresholds: [[0.5, "red"]],
          queries: [{ expr: `max by (service, pod) (${sel("nodejs_eventloop_lag_p99_seconds")})`, legend: "{{pod}}" }]
        },
        {
          title: "Time in garbage collection",
          description: "Share of time spent in GC, by pod and GC kind (Node.js; Deno exports no GC metrics).",
          kind: "timeseries",
          unit: "percentunit",
          queries: [
            { expr: sumRate("service, pod, kind", "nodejs_gc_duration_seconds_sum"), legend: "{{pod}} {{kind}}" }
          ]
        },
        {
          title: "Open file descriptors",
          description:
            "Open file descriptors of each Node.js process (its limit is process_max_fds). Deno does not report them: it reads /proc/self only under --allow-all.",
          kind: "timeseries",
          unit: "short",
          min: 0,
          queries: [{ expr: `max by (service, pod) (${sel("process_open_fds")})`, legend: "{{pod}}" }]
        },
        {
          title: "Active handles",
          description: "Handles (sockets, timers, files) keeping each event loop alive.",
          kind: "timeseries",
          unit: "short",
          queries: [{ expr: `sum by (service, pod) (${sel("nodejs_active_handles_total")})`, legend: "{{pod}}" }]
        },
        {
          title: "Uptime (youngest pod)",
          description: "Time since the most recent process start of each service: a restart resets it.",
          kind: "table",
          unit: "s",
          columnUnits: ["s"],
          queries: [{ expr: `min by (service) (time() - ${sel("process_start_time_seconds")})`, instant: true }]
        },
        {
          title: "Runtime versions",
          description: "Pods by runtime version (Node.js, or the Node compatibility version of Deno).",
          kind: "table",
          unit: "short",
          columnUnits: ["short"],
          queries: [{ expr: `count by (service, version) (${sel("nodejs_version_info")})`, instant: true }]
        }
      ]
    },
    {
      title: "Supervised actors",
      panels: [
        {
          title: "Actors running",
          description:
            "1 while a supervised actor (consumer, outbox relay, broker connection...) runs, 0 while it restarts.",
          kind: "timeseries",
          unit: "bool_yes_no",
          min: 0,
          max: 1,
          width: 12,
          queries: [{ expr: `min by (service, actor) (${sel("troupe_actor_up")})`, legend: "{{service}} {{actor}}" }],
          links: [toMessaging]
        },
        {
          title: "Actor restarts",
          description:
            "Restarts after a failure, per interval. Alert MicrobankActorRestartStorm above 5 in 15 minutes.",
          noValue: "0",
          kind: "timeseries",
          unit: "short",
          width: 12,
          queries: [
            {
              expr: `sum by (service, actor) (increase(${sel("troupe_actor_restarts_total")}[${R}]))`,
              legend: "{{service}} {{actor}}"
            }
          ]
        }
      ]
    },
    {
      title: "Kubernetes",
      panels: [
        {
          title: "Pods not ready",
          description: "Running pods whose readiness probe fails (/health/ready: database, broker, consumers).",
          kind: "timeseries",
          unit: "short",
          source: kubeStateMetrics,
          queries: [
            {
              expr: `sum by (pod) (kube_pod_status_ready{${podScope}, condition="false"})`,
              legend: "{{pod}}"
            }
          ]
        },
        {
          title: "Container restarts",
          description: "Container restarts (crashes, OOM kills, failed liveness probes) per interval.",
          kind: "timeseries",
          unit: "short",
          source: kubeStateMetrics,
          queries: [
            {
              expr: `sum by (pod) (increase(kube_pod_container_status_restarts_total{${podScope}}[${R}]))`,
              legend: "{{pod}}"
            }
          ]
        },
        {
          title: "Replicas: desired and available",
          description: "Replicas KEDA asks for and replicas available, by deployment.",
          kind: "timeseries",
          unit: "short",
          source: kubeStateMetrics,
          queries: [
            {
              expr: `sum by (deployment) (kube_deployment_spec_replicas{namespace="$namespace", deployment=~"$service"})`,
              legend: "{{deployment}} desired"
            },
            {
              expr: `sum by (deployment) (kube_deployment_status_replicas_available{namespace="$namespace", deployment=~"$service"})`,
              legend: "{{deployment}} available"
            }
          ]
        },
        {
          title: "Memory working set vs limit",
          description: "Working set of each container as a share of its memory limit (OOM kill at 100%).",
          kind: "timeseries",
          unit: "percentunit",
          thresholds: [[0.9, "red"]],
          source: cadvisor,
          queries: [
            {
              expr: `max by (pod) (container_memory_working_set_bytes{${podScope}, container!="", container!="POD"} / on (namespace, pod, container) group_left() kube_pod_container_resource_limits{resource="memory"})`,
              legend: "{{pod}}"
            }
          ]
        },
        {
          title: "CPU throttling",
          description: "Share of CFS periods in which a container was throttled at its CPU limit.",
          kind: "timeseries",
          unit: "percentunit",
          source: cadvisor,
          queries: [
            {
              expr: `sum by (pod) (rate(container_cpu_cfs_throttled_periods_total{${podScope}, container!=""}[${R}])) / sum by (pod) (rate(container_cpu_cfs_periods_total{${podScope}, container!=""}[${R}]))`,
              legend: "{{pod}}"
            }
          ]
        },
        {
          title: "PostgreSQL connections by database",
          description: "Backends connected to each service's database in the CloudNativePG cluster.",
          kind: "timeseries",
          unit: "short",
          source: cnpg,
          queries: [
            { expr: `sum by (datname) (cnpg_backends_total{datname!~"postgres|template.*"})`, legend: "{{datname}}" }
          ]
        }
      ]
    }
  ]
}

// ---------------------------------------------------------------------------------------------

const dlq = 'queue=~".+[.]dlq"'
const notDlq = 'queue!~".+[.]dlq"'

const messaging: DashboardSpec = {
  uid: uids.messaging,
  title: "Microbank / Messaging",
  description:
    "Events and work queues: publishing through the outbox, consumers, retries, dead letters, queues and lag.",
  variables,
  rows: [
    {
      title: "Flow",
      panels: [
        {
          title: "Published by destination and type",
          description: "Messages confirmed by the broker (outbox relay), per second.",
          kind: "timeseries",
          unit: "mps",
          stacked: true,
          queries: [
            {
              expr: sumRate("service, destination, type", "troupe_messages_published_total"),
              legend: "{{service}} → {{destination}} {{type}}"
            }
          ]
        },
        {
          title: "Consumed by consumer and outcome",
          description: "Messages taken off queues per second: processed or dead-lettered.",
          kind: "timeseries",
          unit: "mps",
          stacked: true,
          queries: [
            {
              expr: sumRate("consumer, outcome", "troupe_messages_consumed_total"),
              legend: "{{consumer}} {{outcome}}"
            }
          ],
          links: [toBusiness]
        },
        {
          title: "Handler duration (p50, p99)",
          description: "Time spent in message handlers per call (a batch is one call).",
          kind: "timeseries",
          unit: "s",
          queries: [
            { expr: quantile(0.5, "consumer", "troupe_message_handler_duration_seconds"), legend: "{{consumer}} p50" },
            { expr: quantile(0.99, "consumer", "troupe_message_handler_duration_seconds"), legend: "{{consumer}} p99" }
          ]
        },
        {
          title: "Average batch size",
          description: "Messages per handler call: batching at work under load.",
          kind: "timeseries",
          unit: "short",
          queries: [
            {
              expr: `${sumRate("consumer", "troupe_message_batch_size_sum")} / ${sumRate("consumer", "troupe_message_batch_size_count")}`,
              legend: "{{consumer}}"
            }
          ]
        },
        {
          title: "Consumers subscribed",
          description:
            "Consumers currently subscribed, by consumer. Alert MicrobankConsumerNotSubscribed at 0 for 5 minutes.",
          kind: "timeseries",
          unit: "short",
          min: 0,
          queries: [{ expr: `sum by (consumer) (${sel("troupe_consumers_active")})`, legend: "{{consumer}}" }]
        },
        {
          title: "Prefetch per consumer",
          description: "Unacknowledged messages each consumer may hold (AMQP basic.qos).",
          kind: "stat",
          unit: "short",
          height: 8,
          queries: [{ expr: `max by (consumer) (${sel("troupe_consumer_prefetch")})`, legend: "{{consumer}}" }]
        }
      ]
    },
    {
      title: "Failures",
      panels: [
        {
          title: "Dead-lettered in range",
          description: "Messages moved to a dead-letter queue in the time range (poison or retries exhausted).",
          kind: "stat",
          unit: "short",
          width: 6,
          thresholds: [[1, "red"]],
          queries: [{ expr: `sum(increase(${sel("troupe_messages_dead_lettered_total")}[$__range])) or vector(0)` }]
        },
        {
          title: "Dead-lettered by consumer and reason",
          description: "Messages dead-lettered per second. Alert MicrobankDeadLettered on any.",
          noValue: "0",
          kind: "timeseries",
          unit: "mps",
          width: 6,
          queries: [
            {
              expr: sumRate("consumer, reason", "troupe_messages_dead_lettered_total"),
              legend: "{{consumer}} {{reason}}"
            }
          ]
        },
        {
          title: "Handler retries",
          description: "Failed handler attempts that were retried, per second.",
          noValue: "0",
          kind: "timeseries",
          unit: "mps",
          width: 6,
          queries: [{ expr: sumRate("consumer", "troupe_message_retries_total"), legend: "{{consumer}}" }]
        },
        {
          title: "Duplicates skipped by the inbox",
          description: "Redelivered messages the inbox recognised and skipped (exactly-once in effect), per second.",
          noValue: "0",
          kind: "timeseries",
          unit: "mps",
          width: 6,
          queries: [{ expr: sumRate("consumer", "troupe_inbox_duplicates_total"), legend: "{{consumer}}" }]
        }
      ]
    },
    {
      title: "Outbox",
      panels: [
        {
          title: "Outbox backlog",
          description: "Events stored with their state change and not yet confirmed by the broker.",
          kind: "timeseries",
          unit: "short",
          min: 0,
          queries: [{ expr: `max by (service) (${sel("troupe_outbox_backlog")})`, legend: "{{service}}" }]
        },
        {
          title: "Oldest unpublished event",
          description:
            "Age of the oldest event waiting in the outbox. Alert MicrobankOutboxStalled above 30 s for 5 minutes.",
          kind: "timeseries",
          unit: "s",
          min: 0,
          thresholds: [[30, "red"]],
          queries: [{ expr: `max by (service) (${sel("troupe_outbox_oldest_age_seconds")})`, legend: "{{service}}" }]
        },
        {
          title: "Relay leaders",
          description: "Pods holding the outbox relay lease, by service: exactly 1 is healthy.",
          kind: "timeseries",
          unit: "short",
          min: 0,
          queries: [{ expr: `sum by (service) (${sel("troupe_outbox_relay_leader")})`, legend: "{{service}}" }]
        }
      ]
    },
    {
      title: "RabbitMQ queues",
      panels: [
        {
          title: "Messages ready by queue",
          description:
            "Messages waiting for a consumer (KEDA scales on this). Alert MicrobankQueueBacklogHigh above 1000.",
          kind: "timeseries",
          unit: "short",
          source: rabbitmqExporter,
          queries: [
            {
              expr: `sum by (vhost, queue) (rabbitmq_detailed_queue_messages_ready{${notDlq}})`,
              legend: "{{vhost}}/{{queue}}"
            }
          ]
        },
        {
          title: "Messages unacknowledged by queue",
          description: "Messages delivered to consumers and not yet acknowledged (bounded by prefetch).",
          kind: "timeseries",
          unit: "short",
          source: rabbitmqExporter,
          queries: [
            {
              expr: `sum by (vhost, queue) (rabbitmq_detailed_queue_messages_unacked{${notDlq}})`,
              legend: "{{vhost}}/{{queue}}"
            }
          ]
        },
        {
          title: "Dead-letter queues",
          description:
            "Messages in <queue>.dlq queues, including those the broker dead-lettered after 20 redeliveries.",
          kind: "timeseries",
          unit: "short",
          source: rabbitmqExporter,
          thresholds: [[1, "red"]],
          queries: [
            { expr: `sum by (vhost, queue) (rabbitmq_detailed_queue_messages{${dlq}})`, legend: "{{vhost}}/{{queue}}" }
          ]
        },
        {
          title: "Consumers by queue",
          description: "Consumers the broker sees on each queue.",
          kind: "timeseries",
          unit: "short",
          source: rabbitmqExporter,
          queries: [
            {
              expr: `sum by (vhost, queue) (rabbitmq_detailed_queue_consumers{${notDlq}})`,
              legend: "{{vhost}}/{{queue}}"
            }
          ]
        }
      ]
    },
    {
      title: "Kafka",
      panels: [
        {
          title: "Consumer lag (consumers' view)",
          description:
            "Messages not yet committed by each consumer group, as its members report it. Alert above 1000 for 10 minutes.",
          kind: "timeseries",
          unit: "short",
          queries: [
            {
              expr: `sum by (group, topic) (${sel("troupe_kafka_consumer_lag")})`,
              legend: "{{group}} {{topic}}"
            }
          ]
        },
        {
          title: "Consumer group lag (broker's view)",
          description: "Lag per consumer group and topic from the Kafka Exporter: also visible when no consumer runs.",
          kind: "timeseries",
          unit: "short",
          source: kafkaExporter,
          queries: [
            {
              expr: "sum by (consumergroup, topic) (kafka_consumergroup_lag)",
              legend: "{{consumergroup}} {{topic}}"
            }
          ]
        },
        {
          title: "Partitions assigned",
          description: "Partitions assigned to this service's group members (at most one consumer per partition).",
          kind: "timeseries",
          unit: "short",
          queries: [
            {
              expr: `sum by (group, topic, pod) (${sel("troupe_kafka_partitions_assigned")})`,
              legend: "{{pod}} {{topic}}"
            }
          ]
        },
        {
          title: "Rebalances and commit failures",
          description: "Consumer group joins and failed offset commits per interval.",
          noValue: "0",
          kind: "timeseries",
          unit: "short",
          queries: [
            {
              expr: `sum by (group) (increase(${sel("troupe_kafka_rebalances_total")}[${R}]))`,
              legend: "{{group}} rebalances"
            },
            {
              expr: `sum by (group) (increase(${sel("troupe_kafka_commit_failures_total")}[${R}]))`,
              legend: "{{group}} commit failures",
              rare: "a series appears with the first failed offset commit"
            }
          ]
        }
      ]
    }
  ]
}

export const dashboards: ReadonlyArray<DashboardSpec> = [overview, business, system, messaging]
