/**
 * Troupe runtime: typed messages, topics and work queues over memory/AMQP/Kafka transports,
 * supervised consumers with retries and dead-lettering, transactional outbox and inbox,
 * PostgreSQL with migrations (embedded PGlite when no server is configured), and a
 * service host with health, metrics, OpenAPI and graceful shutdown.
 */
export * as Actor from "./Actor.ts"
export * as AmqpTransport from "./AmqpTransport.ts"
export * as Consumer from "./Consumer.ts"
export * as Database from "./Database.ts"
export * as Health from "./Health.ts"
export * as Inbox from "./Inbox.ts"
export * as KafkaTransport from "./KafkaTransport.ts"
export * as MemoryTransport from "./MemoryTransport.ts"
export * as Message from "./Message.ts"
export * as Messaging from "./Messaging.ts"
export * as Metrics from "./Metrics.ts"
export * as Outbox from "./Outbox.ts"
export * as Publisher from "./Publisher.ts"
export * as ServiceHost from "./ServiceHost.ts"
export * as Topic from "./Topic.ts"
export * as Transport from "./Transport.ts"
export * as WorkQueue from "./WorkQueue.ts"
