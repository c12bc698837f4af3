import { stackSuite } from "./stackSuite.ts"

stackSuite("stack mode on Node (PostgreSQL, RabbitMQ, Kafka, accounts ×2)", "node")
