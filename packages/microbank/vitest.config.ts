import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each file starts a whole Microbank (up to 8 processes): one at a time on a small machine.
    fileParallelism: false
  }
})
