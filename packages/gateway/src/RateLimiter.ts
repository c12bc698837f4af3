/**
 * In-memory token buckets, one per key (user id, client address, username), with a bounded
 * number of keys so a flood of distinct keys cannot exhaust memory. Per gateway replica:
 * with N replicas the effective limit is up to N times higher — fine for abuse protection;
 * use a shared store if you need exact quotas.
 */
import { Clock, Effect } from "effect"

export interface Bucket {
  /** Takes one token; succeeds with 0 or fails with the seconds until one is available. */
  readonly take: (key: string) => Effect.Effect<void, number>
}

export const make = (perMinute: number, maxKeys = 100_000): Bucket => {
  const buckets = new Map<string, { tokens: number; updated: number }>()
  const ratePerMs = perMinute / 60_000
  return {
    take: (key) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        let bucket = buckets.get(key)
        if (bucket === undefined) {
          if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value!)
          bucket = { tokens: perMinute, updated: now }
        } else {
          buckets.delete(key) // re-insert below: Map order is then least-recently-used first
          bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.updated) * ratePerMs)
          bucket.updated = now
        }
        buckets.set(key, bucket)
        if (bucket.tokens >= 1) {
          bucket.tokens -= 1
          return Effect.void
        }
        return Effect.fail(Math.max(1, Math.ceil((1 - bucket.tokens) / ratePerMs / 1000)))
      })
  }
}
