// Turning dashboard queries into what Prometheus evaluates: Grafana's variables substituted the
// way Grafana would with "All" selected, and `label_values(...)` variable queries as PromQL.

export interface Substitutions {
  readonly namespace: string
  readonly service: string
  readonly rateInterval: string
  readonly range: string
}

export const substitute = (expr: string, s: Substitutions): string =>
  expr
    .replaceAll("$__rate_interval", s.rateInterval)
    .replaceAll("$__range", s.range)
    .replaceAll("$namespace", s.namespace)
    .replaceAll("$service", s.service)

/** `label_values(<selector>, <label>)` → `group by (<label>) (<selector>)`. */
export const variableQuery = (query: string): string => {
  const m = /^label_values\((.+),\s*(\w+)\)$/.exec(query.trim())
  if (!m) throw new Error(`not a label_values() query: ${query}`)
  return `group by (${m[2]}) (${m[1]})`
}

/** Metric names a PromQL expression selects (identifiers followed by `{` or `[`, or bare ones). */
export const metricNames = (expr: string): Array<string> => {
  const names = new Set<string>()
  for (const m of expr.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{/g)) names.add(m[1]!)
  return [...names]
}
