import { stackSuite } from "./stackSuite.ts"

stackSuite("stack mode on Deno (PostgreSQL, RabbitMQ, Kafka, accounts ×2)", "deno")
