// The part of autocannon's API the benchmarks use (it ships no types).
declare module "autocannon" {
  interface Result {
    readonly requests: { readonly average: number; readonly total: number }
    readonly latency: { readonly p50: number; readonly p99: number; readonly average: number }
    readonly non2xx: number
    readonly errors: number
  }
  interface Options {
    readonly url: string
    readonly connections?: number
    readonly duration?: number
    /** Stop after this many requests instead of after `duration`. */
    readonly amount?: number
    /** Seconds to wait for an answer. */
    readonly timeout?: number
    readonly pipelining?: number
    readonly method?: string
    readonly headers?: Record<string, string>
    readonly body?: string
  }
  export default function autocannon(options: Options, done: (error: Error | null, result: Result) => void): unknown
}
