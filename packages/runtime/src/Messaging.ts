/**
 * Picks the transport from the environment, so a service switches broker by configuration
 * only: `KAFKA_BROKERS` → Kafka (see `KafkaTransport.config` for its other variables), else
 * `AMQP_URL` → RabbitMQ, else the in-process broker shared by every service in the process
 * (embedded mode). When both are set, Kafka wins.
 *
 * @example
 * ```ts
 * const App = Http.layer.pipe(Layer.provide(Messaging.layer))
 * ```
 */
import { Config, Effect, Layer, Option } from "effect"
import * as AmqpTransport from "./AmqpTransport.ts"
import type { Health } from "./Health.ts"
import * as KafkaTransport from "./KafkaTransport.ts"
import * as MemoryTransport from "./MemoryTransport.ts"
import type { Metrics } from "./Metrics.ts"
import type { Transport, TransportError } from "./Transport.ts"

export const layer: Layer.Layer<Transport, Config.ConfigError | TransportError, Health | Metrics> = Layer.unwrap(
  Effect.gen(function* () {
    const kafka = yield* Config.option(Config.String("KAFKA_BROKERS"))
    if (Option.isSome(kafka)) return KafkaTransport.layerConfig
    const amqp = yield* Config.option(AmqpTransport.config)
    return Option.match(amqp, {
      onNone: () => MemoryTransport.layerShared,
      onSome: (url) => AmqpTransport.layer({ url })
    })
  })
)
