// Everything the users service reads from the environment.
import { Config, Schema } from "effect"

export const UsersConfig = Config.all({
  /** Work factor of scrypt as log2(N): 15 = 32 MiB of memory and ~100 ms per hash. */
  scryptLogN: Config.schema(
    Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 14, maximum: 20 })),
    "PASSWORD_SCRYPT_LOG_N"
  ).pipe(Config.withDefault(15)),
  adminUsername: Config.String("ADMIN_USERNAME").pipe(Config.withDefault("admin")),
  adminEmail: Config.String("ADMIN_EMAIL").pipe(Config.withDefault("admin@microbank.local")),
  /** When set, an admin with this password is created at start unless the admin username exists. */
  adminPassword: Config.option(Config.Redacted("ADMIN_PASSWORD"))
})
