// Embedded Microbank (one process, real PGlite databases) under attack: generated hostile
// requests for every operation, token and access attacks, and transport-level abuse.
import { afterAll, beforeAll, describe } from "@effect/vitest"
import { Client, type Embedded, startEmbedded } from "../src/Microbank.ts"
import * as OpenApiModel from "../src/OpenApiModel.ts"
import { accessAttacks } from "./accessAttacks.ts"
import { hostileInput } from "./hostileInput.ts"
import { limitsEnv, transportAbuse } from "./transportAbuse.ts"
import type { World } from "./world.ts"

describe("embedded Microbank under attack", () => {
  let microbank: Embedded
  let world: World
  beforeAll(async () => {
    microbank = await startEmbedded({
      // The flood is thousands of requests from a few users and one address; the limits are tested apart.
      RATE_LIMIT_PER_MINUTE: "1000000",
      AUTH_RATE_LIMIT_PER_MINUTE: "1000000",
      ...limitsEnv
    })
    const admin = await new Client(microbank.url).login("admin", microbank.adminPassword)
    world = { microbank, admin, document: OpenApiModel.read() }
  })
  afterAll(async () => {
    await microbank?.stop()
  })

  hostileInput(() => world)
  accessAttacks(() => world)
  transportAbuse(() => world)
})
