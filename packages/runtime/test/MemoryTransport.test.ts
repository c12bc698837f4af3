import { Effect, Layer } from "effect"
import * as MemoryTransport from "../src/MemoryTransport.ts"
import { Transport } from "../src/Transport.ts"
import { transportContract } from "./contract.ts"

let current: ReturnType<typeof MemoryTransport.make> | undefined

transportContract({
  name: "memory",
  layer: () =>
    Layer.sync(Transport, () => {
      current = MemoryTransport.make()
      return current
    }),
  deadLetters: (queue) =>
    Effect.sync(() => {
      const list = current?.broker.deadLetters(queue) ?? []
      const out = list.map((d) => ({
        id: d.message.id,
        type: d.message.type,
        reason: d.deadLetter.reason,
        error: d.deadLetter.error
      }))
      ;(list as Array<unknown>).length = 0
      return out
    })
})
