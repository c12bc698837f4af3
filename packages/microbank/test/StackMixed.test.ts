import { stackSuite } from "./stackSuite.ts"

// Half the services on each runtime, talking through the same brokers and HTTP.
stackSuite("stack mode on Node and Deno together", {
  gateway: "deno",
  users: "node",
  accounts: "deno",
  notifications: "node",
  purchases: "deno",
  ingest: "node",
  jobs: "deno"
})
