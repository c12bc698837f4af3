/**
 * The single source of truth for what Microbank ships: its services, its environments and the
 * platform names they share. `generate` writes `gitops/base/<service>/` and the per-service
 * environment overlays from it, `validate` checks the repository against it, and the release
 * workflow asks `changed` which of these services to build. Adding a service is one entry here
 * (then `node packages/gitops-tools/src/cli.ts generate`).
 */

/** Where the repository and its images live. Change these two lines in a fork. */
export const repository = {
  url: "https://github.com/troupe-dev/troupe.git",
  /** Images are `<imageRepository>/<service>`; the Deno variant adds `-deno` to the tag. */
  imageRepository: "ghcr.io/troupe-dev/troupe",
  branch: "main"
} as const

/** Namespaces and the operator-managed backing services every environment has. */
export const platform = {
  appNamespace: "microbank",
  dataNamespace: "microbank-data",
  monitoringNamespace: "monitoring",
  gatewayNamespace: "envoy-gateway-system",
  kedaNamespace: "keda",
  postgres: { cluster: "microbank-pg", host: "microbank-pg-rw.microbank-data.svc", port: 5432 },
  rabbitmq: { cluster: "microbank-rabbitmq", host: "microbank-rabbitmq.microbank-data.svc", port: 5672 },
  kafka: { cluster: "microbank-kafka", bootstrap: "microbank-kafka-kafka-bootstrap.microbank-data.svc:9092" },
  /** The name of the ClusterSecretStore (External Secrets Operator) every secret comes from. */
  secretStore: "microbank",
  /** Every container listens here; probes, Services and ServiceMonitors use it. */
  port: 8080
} as const

export type Broker = "rabbitmq" | "kafka"

export interface ServiceSpec {
  /** Workspace `packages/<name>`, label `app: <name>`, image `<imageRepository>/<name>`. */
  readonly name: string
  /** The npm workspace package name (`turbo prune` and `changed` use it). */
  readonly packageName: string
  readonly description: string
  /** Owns a database `<name>` in the environment's CloudNativePG cluster (DATABASE_URL, migrations). */
  readonly database: boolean
  readonly brokers: ReadonlyArray<Broker>
  /** Services this one calls over HTTP (NetworkPolicy egress, `<NAME>_URL` config). */
  readonly calls: ReadonlyArray<string>
  /** Exposed to the outside through the Gateway (HTTPRoute). */
  readonly exposed: boolean
  /** Pods of the service talk to each other (effect/cluster runners). */
  readonly peers: boolean
  /** Extra KEDA triggers on top of CPU. */
  readonly scaleOn: ReadonlyArray<
    | { readonly type: "rabbitmq"; readonly queue: string; readonly perReplica: number }
    | { readonly type: "kafka"; readonly topic: string; readonly group: string; readonly perReplica: number }
  >
  /** Non-secret environment, besides PORT, SHUTDOWN_* and DATA_DIR which every service gets. */
  readonly config: Readonly<Record<string, string>>
  /** Secret environment: variable → key of the service's ExternalSecret-made Secret `<name>-secrets`. */
  readonly secrets: ReadonlyArray<string>
  readonly resources: {
    readonly cpu: string
    readonly memory: string
    readonly cpuLimit: string
    readonly memoryLimit: string
  }
}

const small = { cpu: "100m", memory: "192Mi", cpuLimit: "1", memoryLimit: "384Mi" } as const
const svcUrl = (name: string) => `http://${name}.${platform.appNamespace}.svc`

export const services: ReadonlyArray<ServiceSpec> = [
  {
    name: "gateway",
    packageName: "@microbank/gateway",
    description: "JWT login, auth on /api/**, routing to the services, web UI",
    database: false,
    brokers: [],
    calls: ["users", "accounts", "notifications", "purchases", "ingest", "jobs"],
    exposed: true,
    peers: false,
    scaleOn: [],
    config: {
      JWT_ISSUER: "https://microbank.example.com",
      JWT_AUDIENCE: "microbank",
      JWT_ACTIVE_KID: "2026-11",
      USERS_URL: svcUrl("users"),
      ACCOUNTS_URL: svcUrl("accounts"),
      NOTIFICATIONS_URL: svcUrl("notifications"),
      PURCHASES_URL: svcUrl("purchases"),
      INGEST_URL: svcUrl("ingest"),
      JOBS_URL: svcUrl("jobs")
    },
    secrets: ["JWT_SIGNING_KEYS"],
    resources: small
  },
  {
    name: "users",
    packageName: "@microbank/users",
    description: "users CRUD with validation and password hashing",
    database: true,
    brokers: ["rabbitmq"],
    calls: [],
    exposed: false,
    peers: false,
    scaleOn: [],
    config: {},
    secrets: ["DATABASE_URL", "AMQP_URL"],
    resources: small
  },
  {
    name: "accounts",
    packageName: "@microbank/accounts",
    description: "accounts and money movements as per-account entity actors (effect/cluster)",
    database: true,
    brokers: ["rabbitmq"],
    calls: [],
    exposed: false,
    peers: true,
    scaleOn: [],
    config: {},
    secrets: ["DATABASE_URL", "AMQP_URL"],
    resources: { cpu: "200m", memory: "256Mi", cpuLimit: "1", memoryLimit: "512Mi" }
  },
  {
    name: "notifications",
    packageName: "@microbank/notifications",
    description: "consumes queue notifications, stores and lists notifications",
    database: true,
    brokers: ["rabbitmq"],
    calls: [],
    exposed: false,
    peers: false,
    scaleOn: [{ type: "rabbitmq", queue: "notifications", perReplica: 100 }],
    config: {},
    secrets: ["DATABASE_URL", "AMQP_URL"],
    resources: small
  },
  {
    name: "purchases",
    packageName: "@microbank/purchases",
    description: "POST /api/v1/buy to Kafka topic purchases; consumer group purchases persists them",
    database: true,
    brokers: ["kafka"],
    calls: [],
    exposed: false,
    peers: false,
    scaleOn: [{ type: "kafka", topic: "purchases", group: "purchases", perReplica: 100 }],
    config: { KAFKA_BROKERS: platform.kafka.bootstrap },
    secrets: ["DATABASE_URL"],
    resources: small
  },
  {
    name: "ingest",
    packageName: "@microbank/ingest",
    description: "record ingestion through work queue ingest.records to a batching worker",
    database: true,
    brokers: ["rabbitmq"],
    calls: [],
    exposed: false,
    peers: false,
    scaleOn: [{ type: "rabbitmq", queue: "ingest.records", perReplica: 500 }],
    config: {},
    secrets: ["DATABASE_URL", "AMQP_URL"],
    resources: small
  },
  {
    name: "jobs",
    packageName: "@microbank/jobs",
    description:
      "jobs and pipelines as durable workflows (effect/workflow), reading from the services that own the data",
    database: true,
    brokers: [],
    calls: ["users", "accounts", "notifications", "purchases", "ingest"],
    exposed: false,
    peers: false,
    scaleOn: [],
    config: {
      USERS_URL: svcUrl("users"),
      ACCOUNTS_URL: svcUrl("accounts"),
      NOTIFICATIONS_URL: svcUrl("notifications"),
      PURCHASES_URL: svcUrl("purchases"),
      INGEST_URL: svcUrl("ingest")
    },
    secrets: ["DATABASE_URL"],
    resources: small
  }
]

export interface EnvironmentSpec {
  readonly name: string
  /** Where `promote` copies this environment's images to, if anywhere. */
  readonly promotesTo: string | undefined
  /** KEDA bounds for every service. */
  readonly minReplicas: number
  readonly maxReplicas: number
  /** A warm standby: workloads paused at zero replicas and no migrations until failover. */
  readonly standby: boolean
}

export const environments: ReadonlyArray<EnvironmentSpec> = [
  { name: "dev", promotesTo: "prod", minReplicas: 1, maxReplicas: 3, standby: false },
  { name: "prod", promotesTo: "prod-dr", minReplicas: 2, maxReplicas: 10, standby: false },
  { name: "prod-dr", promotesTo: undefined, minReplicas: 2, maxReplicas: 10, standby: true }
]

/** Name of the placeholder image every base refers to; env overlays map it to the real one. */
export const baseImage = (service: string) => `microbank/${service}`
export const imageName = (service: string) => `${repository.imageRepository}/${service}`

export const findService = (name: string): ServiceSpec | undefined => services.find((s) => s.name === name)
export const findEnvironment = (name: string): EnvironmentSpec | undefined => environments.find((e) => e.name === name)

/** Files and folders outside `packages/<service>` whose change rebuilds every image. */
export const sharedBuildInputs: ReadonlyArray<string> = [
  "Dockerfile",
  ".dockerignore",
  "package.json",
  "package-lock.json",
  "tsconfig.base.json",
  "deno.json",
  "turbo.json"
]
