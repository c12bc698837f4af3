import { defineConfig } from "vitest/config"

// Browser tests start Microbank and Chromium once per file; each file runs its steps in order.
export default defineConfig({
  test: { include: ["test/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 180_000, fileParallelism: false }
})
