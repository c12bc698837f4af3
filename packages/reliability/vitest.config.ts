import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    // Each chaos file starts a whole Microbank with its own PostgreSQL and RabbitMQ: one at a time.
    fileParallelism: false
  }
})
