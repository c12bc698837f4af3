// `promtool test rules` cases: synthetic series for each alert, with the time at which it must be
// firing for the broken series and quiet for the healthy ones next to them.

interface Series {
  readonly series: string
  readonly values: string
}
interface AlertTest {
  readonly eval_time: string
  readonly alertname: string
  readonly exp_alerts: ReadonlyArray<{ readonly exp_labels: Record<string, string> }>
}
export interface RuleTest {
  readonly name: string
  readonly interval: string
  readonly input_series: ReadonlyArray<Series>
  readonly alert_rule_test: ReadonlyArray<AlertTest>
}

const labels = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`
const s = (metric: string, l: Record<string, string>, values: string): Series => ({
  series: `${metric}${labels(l)}`,
  values
})
const ns = { namespace: "microbank" }
const data = { namespace: "microbank-data", vhost: "microbank" }
const http = (service: string, route: string, status: string) => ({ ...ns, service, route, method: "GET", status })
const hist = (service: string, route: string, le?: string) => ({
  ...ns,
  service,
  route,
  method: "GET",
  ...(le ? { le } : {})
})

export const alertTests: ReadonlyArray<RuleTest> = [
  {
    name: "5xx ratio: 10% of the gateway's API requests fail; users' start-up 503s on /health/ready do not count",
    interval: "1m",
    input_series: [
      s("troupe_http_requests_total", http("gateway", "/api/accounts", "2xx"), "0+90x20"),
      s("troupe_http_requests_total", http("gateway", "/api/accounts", "5xx"), "0+10x20"),
      s("troupe_http_requests_total", http("gateway", "/health/ready", "2xx"), "0+1000x20"),
      s("troupe_http_requests_total", http("users", "/users/:id", "2xx"), "0+100x20"),
      s("troupe_http_requests_total", http("users", "/health/ready", "5xx"), "0+50x20")
    ],
    alert_rule_test: [
      {
        eval_time: "12m",
        alertname: "MicrobankHighErrorRatio",
        exp_alerts: [{ exp_labels: { severity: "critical", ...ns, service: "gateway" } }]
      }
    ]
  },
  {
    name: "latency SLO: 30% of the gateway's requests are slower than 500 ms, 1% of users' (and all its health probes)",
    interval: "1m",
    input_series: [
      s("troupe_http_request_duration_seconds_bucket", hist("gateway", "/api/accounts", "0.5"), "0+70x90"),
      s("troupe_http_request_duration_seconds_count", hist("gateway", "/api/accounts"), "0+100x90"),
      s("troupe_http_request_duration_seconds_bucket", hist("users", "/users/:id", "0.5"), "0+99x90"),
      s("troupe_http_request_duration_seconds_count", hist("users", "/users/:id"), "0+100x90"),
      s("troupe_http_request_duration_seconds_bucket", hist("users", "/health/ready", "0.5"), "0+0x90"),
      s("troupe_http_request_duration_seconds_count", hist("users", "/health/ready"), "0+100x90")
    ],
    alert_rule_test: [
      {
        eval_time: "90m",
        alertname: "MicrobankLatencyBudgetBurnFast",
        exp_alerts: [{ exp_labels: { severity: "critical", ...ns, service: "gateway" } }]
      },
      {
        eval_time: "90m",
        alertname: "MicrobankLatencyBudgetBurnSlow",
        exp_alerts: [{ exp_labels: { severity: "warning", ...ns, service: "gateway" } }]
      }
    ]
  },
  {
    name: "targets: a users pod stops answering scrapes; no users pod is up while 2 replicas are wanted",
    interval: "1m",
    input_series: [
      s("up", { ...ns, service: "users", pod: "users-1", job: "users" }, "1 1 0x10"),
      s("up", { ...ns, service: "gateway", pod: "gateway-1", job: "gateway" }, "1x12"),
      s("kube_deployment_spec_replicas", { ...ns, deployment: "users" }, "2x12"),
      s("kube_deployment_spec_replicas", { ...ns, deployment: "gateway" }, "2x12"),
      // paused standby (prod-dr): no replicas wanted, none running
      s("kube_deployment_spec_replicas", { ...ns, deployment: "jobs" }, "0x12")
    ],
    alert_rule_test: [
      {
        eval_time: "10m",
        alertname: "MicrobankScrapeTargetDown",
        exp_alerts: [{ exp_labels: { severity: "warning", ...ns, service: "users", pod: "users-1", job: "users" } }]
      },
      {
        eval_time: "10m",
        alertname: "MicrobankServiceDown",
        exp_alerts: [{ exp_labels: { severity: "critical", ...ns, deployment: "users" } }]
      }
    ]
  },
  {
    name: "pods: a running pod fails readiness; a completed migration pod is not ready and does not count",
    interval: "1m",
    input_series: [
      s("kube_pod_status_ready", { ...ns, pod: "users-7d9f", condition: "false" }, "1x20"),
      s("kube_pod_status_phase", { ...ns, pod: "users-7d9f", phase: "Running" }, "1x20"),
      s("kube_pod_status_ready", { ...ns, pod: "users-migrate-x1", condition: "false" }, "1x20"),
      s("kube_pod_status_phase", { ...ns, pod: "users-migrate-x1", phase: "Running" }, "0x20"),
      s("kube_pod_status_phase", { ...ns, pod: "users-migrate-x1", phase: "Succeeded" }, "1x20"),
      s("kube_pod_status_ready", { ...ns, pod: "gateway-5c4b", condition: "false" }, "0x20"),
      s("kube_pod_status_phase", { ...ns, pod: "gateway-5c4b", phase: "Running" }, "1x20")
    ],
    alert_rule_test: [
      {
        eval_time: "15m",
        alertname: "MicrobankPodNotReady",
        exp_alerts: [{ exp_labels: { severity: "warning", ...ns, pod: "users-7d9f" } }]
      }
    ]
  },
  {
    name: "dead letters: a first poison message (a counter born at 1) fires; an old, unchanged counter does not",
    interval: "1m",
    input_series: [
      s(
        "troupe_messages_dead_lettered_total",
        { ...ns, service: "notifications", pod: "n-1", consumer: "notifications", reason: "poison" },
        "_x20 1x30"
      ),
      s(
        "troupe_messages_dead_lettered_total",
        { ...ns, service: "ingest", pod: "i-1", consumer: "ingest.records", reason: "exhausted" },
        "3x50"
      ),
      // a consumer that starts exports its counter at 0: a new series, but nothing dead-lettered
      s(
        "troupe_messages_dead_lettered_total",
        { ...ns, service: "purchases", pod: "p-1", consumer: "purchases", reason: "poison" },
        "_x20 0x30"
      ),
      s("rabbitmq_detailed_queue_messages", { ...data, queue: "notifications.dlq" }, "0 0 1 2 3 4 5x40"),
      s("rabbitmq_detailed_queue_messages", { ...data, queue: "ingest.records.dlq" }, "5x46"),
      s("rabbitmq_detailed_queue_messages", { ...data, queue: "notifications" }, "100x46")
    ],
    alert_rule_test: [
      {
        eval_time: "25m",
        alertname: "MicrobankDeadLettered",
        exp_alerts: [
          {
            exp_labels: {
              severity: "warning",
              ...ns,
              service: "notifications",
              consumer: "notifications",
              reason: "poison"
            }
          }
        ]
      },
      { eval_time: "45m", alertname: "MicrobankDeadLettered", exp_alerts: [] },
      {
        eval_time: "10m",
        alertname: "MicrobankDeadLetterQueueGrowing",
        exp_alerts: [{ exp_labels: { severity: "warning", ...data, queue: "notifications.dlq" } }]
      },
      { eval_time: "45m", alertname: "MicrobankDeadLetterQueueGrowing", exp_alerts: [] }
    ]
  },
  {
    name: "outbox: accounts' oldest event ages, its relay lease is held by nobody; users is healthy",
    interval: "1m",
    input_series: [
      s("troupe_outbox_oldest_age_seconds", { ...ns, service: "accounts", pod: "a-1" }, "0+60x15"),
      s("troupe_outbox_oldest_age_seconds", { ...ns, service: "users", pod: "u-1" }, "0x15"),
      s("troupe_outbox_relay_leader", { ...ns, service: "accounts", pod: "a-1" }, "0x15"),
      s("troupe_outbox_relay_leader", { ...ns, service: "accounts", pod: "a-2" }, "0x15"),
      s("troupe_outbox_relay_leader", { ...ns, service: "users", pod: "u-1" }, "1x15"),
      s("troupe_outbox_relay_leader", { ...ns, service: "users", pod: "u-2" }, "0x15")
    ],
    alert_rule_test: [
      {
        eval_time: "10m",
        alertname: "MicrobankOutboxStalled",
        exp_alerts: [{ exp_labels: { severity: "warning", ...ns, service: "accounts" } }]
      },
      {
        eval_time: "10m",
        alertname: "MicrobankOutboxNoRelayLeader",
        exp_alerts: [{ exp_labels: { severity: "warning", ...ns, service: "accounts" } }]
      }
    ]
  },
  {
    name: "consumers and queues: one notifications pod lost its subscription; queue and lag above 1000",
    interval: "1m",
    input_series: [
      s(
        "troupe_consumers_active",
        { ...ns, service: "notifications", pod: "n-1", consumer: "notifications" },
        "1 1 0x10"
      ),
      s("troupe_consumers_active", { ...ns, service: "notifications", pod: "n-2", consumer: "notifications" }, "1x12"),
      s("rabbitmq_detailed_queue_messages_ready", { ...data, queue: "notifications" }, "2000x20"),
      s("rabbitmq_detailed_queue_messages_ready", { ...data, queue: "notifications.dlq" }, "5000x20"),
      s("rabbitmq_detailed_queue_messages_ready", { ...data, queue: "ingest.records" }, "10x20"),
      ...["0", "1"].map((partition) =>
        s(
          "troupe_kafka_consumer_lag",
          { ...ns, service: "purchases", pod: "p-1", group: "purchases", topic: "purchases", partition },
          "800x20"
        )
      ),
      s(
        "troupe_kafka_consumer_lag",
        { ...ns, service: "purchases", pod: "p-1", group: "analytics", topic: "purchases", partition: "0" },
        "10x20"
      )
    ],
    alert_rule_test: [
      {
        eval_time: "10m",
        alertname: "MicrobankConsumerNotSubscribed",
        exp_alerts: [
          {
            exp_labels: { severity: "warning", ...ns, service: "notifications", pod: "n-1", consumer: "notifications" }
          }
        ]
      },
      {
        eval_time: "15m",
        alertname: "MicrobankQueueBacklogHigh",
        exp_alerts: [{ exp_labels: { severity: "warning", ...data, queue: "notifications" } }]
      },
      {
        eval_time: "15m",
        alertname: "MicrobankKafkaConsumerLagHigh",
        exp_alerts: [
          { exp_labels: { severity: "warning", ...ns, service: "purchases", group: "purchases", topic: "purchases" } }
        ]
      }
    ]
  },
  {
    name: "runtime: accounts' outbox relay restarts every minute; a slow event loop on one gateway pod",
    interval: "1m",
    input_series: [
      s("troupe_actor_restarts_total", { ...ns, service: "accounts", pod: "a-1", actor: "outbox-relay" }, "0+1x20"),
      s(
        "troupe_actor_restarts_total",
        { ...ns, service: "accounts", pod: "a-1", actor: "amqp-connection" },
        "0 1 1x20"
      ),
      s("nodejs_eventloop_lag_p99_seconds", { ...ns, service: "gateway", pod: "g-1" }, "0.8x20"),
      s("nodejs_eventloop_lag_p99_seconds", { ...ns, service: "gateway", pod: "g-2" }, "0.01x20")
    ],
    alert_rule_test: [
      {
        eval_time: "10m",
        alertname: "MicrobankActorRestartStorm",
        exp_alerts: [
          { exp_labels: { severity: "warning", ...ns, service: "accounts", pod: "a-1", actor: "outbox-relay" } }
        ]
      },
      {
        eval_time: "15m",
        alertname: "MicrobankEventLoopLagHigh",
        exp_alerts: [{ exp_labels: { severity: "warning", ...ns, service: "gateway", pod: "g-1" } }]
      }
    ]
  }
]
