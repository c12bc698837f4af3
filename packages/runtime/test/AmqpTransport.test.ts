import { Effect, Layer, Redacted } from "effect"
import * as AmqpTransport from "../src/AmqpTransport.ts"
import { transportContract } from "./contract.ts"
import { AMQP_URL, amqpDeadLetters, deleteAmqp, rabbitAvailable } from "./services.ts"

transportContract({
  name: "amqp (RabbitMQ)",
  skip: !rabbitAvailable,
  layer: () => AmqpTransport.layer({ url: Redacted.make(AMQP_URL) }).pipe(Layer.orDie),
  deadLetters: (queue) => Effect.promise(() => amqpDeadLetters(queue)),
  cleanup: (queues, topics) => Effect.promise(() => deleteAmqp(queues, topics))
})
