// Everything the gateway reads from the environment.
import { Config } from "effect"

export const GatewayConfig = Config.all({
  issuer: Config.String("JWT_ISSUER").pipe(Config.withDefault("microbank")),
  audience: Config.String("JWT_AUDIENCE").pipe(Config.withDefault("microbank-api")),
  /** `{"<kid>": "<secret, at least 32 characters>", ...}`: every key verifies, the active one signs. */
  signingKeys: Config.Redacted("JWT_SIGNING_KEYS"),
  activeKid: Config.String("JWT_ACTIVE_KID"),
  tokenTtlSeconds: Config.Int("JWT_TTL_SECONDS").pipe(Config.withDefault(1800)),
  usersUrl: Config.String("USERS_URL").pipe(Config.withDefault("http://127.0.0.1:8081")),
  accountsUrl: Config.String("ACCOUNTS_URL").pipe(Config.withDefault("http://127.0.0.1:8082")),
  notificationsUrl: Config.String("NOTIFICATIONS_URL").pipe(Config.withDefault("http://127.0.0.1:8083")),
  purchasesUrl: Config.String("PURCHASES_URL").pipe(Config.withDefault("http://127.0.0.1:8084")),
  ingestUrl: Config.String("INGEST_URL").pipe(Config.withDefault("http://127.0.0.1:8085")),
  jobsUrl: Config.String("JOBS_URL").pipe(Config.withDefault("http://127.0.0.1:8086")),
  /** Requests per minute per authenticated user. */
  rateLimitPerMinute: Config.Int("RATE_LIMIT_PER_MINUTE").pipe(Config.withDefault(600)),
  /** Login attempts per minute per username (brute force on one account). */
  loginLimitPerMinute: Config.Int("LOGIN_RATE_LIMIT_PER_MINUTE").pipe(Config.withDefault(10)),
  /** Login and registration attempts per minute per client address (credential stuffing, sign-up floods). */
  authLimitPerMinute: Config.Int("AUTH_RATE_LIMIT_PER_MINUTE").pipe(Config.withDefault(60)),
  /** Take the client address from `x-forwarded-for` (only behind our own ingress). */
  trustProxy: Config.Boolean("TRUST_PROXY").pipe(Config.withDefault(false))
})
