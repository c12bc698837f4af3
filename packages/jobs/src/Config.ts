// Everything the jobs service reads from the environment.
import { Config } from "effect"

export const JobsConfig = Config.all({
  usersUrl: Config.String("USERS_URL").pipe(Config.withDefault("http://127.0.0.1:8081")),
  accountsUrl: Config.String("ACCOUNTS_URL").pipe(Config.withDefault("http://127.0.0.1:8082")),
  notificationsUrl: Config.String("NOTIFICATIONS_URL").pipe(Config.withDefault("http://127.0.0.1:8083")),
  purchasesUrl: Config.String("PURCHASES_URL").pipe(Config.withDefault("http://127.0.0.1:8084")),
  ingestUrl: Config.String("INGEST_URL").pipe(Config.withDefault("http://127.0.0.1:8085")),
  /** Transactions fetched per step of an account statement (each step is durable). */
  statementPageSize: Config.Int("STATEMENT_PAGE_SIZE").pipe(Config.withDefault(100))
})
