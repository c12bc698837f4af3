import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Each file starts a whole Microbank: one at a time on a small machine.
    fileParallelism: false
  }
})
