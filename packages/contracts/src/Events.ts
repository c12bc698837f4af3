/**
 * Microbank's event topology: the `banking_events` topic (a RabbitMQ topic exchange) and
 * the messages published to it.
 */
import { Topic } from "@troupe/runtime"
import { TransactionCompleted } from "./Accounts.ts"
import { UserCreated } from "./Users.ts"

export const BankingEvents = Topic.make("banking_events", [TransactionCompleted, UserCreated])
