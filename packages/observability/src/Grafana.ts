/**
 * A small, typed description of Grafana dashboards and its rendering to the JSON model Grafana
 * provisions. Dashboards are written as `DashboardSpec`s (rows of panels with PromQL queries);
 * `render` lays them out on Grafana's 24-column grid. Every panel states its unit and where its
 * data comes from (`Source`), so the proof against a local Prometheus knows which queries must
 * return data and which cannot without a cluster.
 */

/** Grafana unit ids used here (Grafana's "Standard options → Unit"), or `suffix:<text>`. */
export type Unit =
  | "reqps"
  | "mps"
  | "ops"
  | "opm"
  | "recps"
  | "percentunit"
  | "s"
  | "bytes"
  | "short"
  | "none"
  | "bool_yes_no"
  | "currencyUSD"
  | `suffix:${string}`

/**
 * Where a query's data comes from. `stack`: the services themselves (scraped in stack mode too);
 * `cluster`: only in Kubernetes (kube-state-metrics, cAdvisor, broker exporters);
 * `pending`: exported by a service that is in the registry but not yet in stack mode.
 */
export type Source =
  | { readonly kind: "stack" }
  | { readonly kind: "cluster"; readonly reason: string }
  | { readonly kind: "pending"; readonly service: string; readonly reason: string }

export const stack: Source = { kind: "stack" }
export const clusterOnly = (reason: string): Source => ({ kind: "cluster", reason })
export const pending = (service: string, reason: string): Source => ({ kind: "pending", service, reason })

export interface Query {
  readonly expr: string
  readonly legend?: string
  /** Table panels evaluate instant queries. */
  readonly instant?: boolean
  /** Counts events so rare that the series may not exist yet (why); the proof accepts no data. */
  readonly rare?: string
}

export interface PanelLink {
  readonly title: string
  /** The uid of another dashboard; the link keeps the time range and the variables. */
  readonly dashboard: string
}

export interface PanelSpec {
  readonly title: string
  readonly description: string
  readonly kind: "timeseries" | "stat" | "table"
  readonly unit: Unit
  readonly queries: ReadonlyArray<Query>
  readonly source?: Source
  /** Grid columns out of 24 (default 8) and rows (default 8; stats 4). */
  readonly width?: number
  readonly height?: number
  readonly min?: number
  readonly max?: number
  /** Thresholds after the base colour (green): value → colour. */
  readonly thresholds?: ReadonlyArray<readonly [number, "yellow" | "orange" | "red"]>
  readonly stacked?: boolean
  readonly links?: ReadonlyArray<PanelLink>
  /** Table columns: the unit of each query's value column, in query order. */
  readonly columnUnits?: ReadonlyArray<Unit>
  /** Shown instead of "No data" (counters of rare events exist only after the first one). */
  readonly noValue?: string
}

export interface RowSpec {
  readonly title: string
  readonly panels: ReadonlyArray<PanelSpec>
}

export interface VariableSpec {
  readonly name: string
  readonly label: string
  /** `label_values(<selector>, <label>)`, Grafana's Prometheus variable query. */
  readonly query: string
  readonly multi: boolean
}

export interface DashboardSpec {
  readonly uid: string
  readonly title: string
  readonly description: string
  readonly variables: ReadonlyArray<VariableSpec>
  readonly rows: ReadonlyArray<RowSpec>
}

/** Every Microbank dashboard carries this tag; the dashboard links list them by it. */
export const tag = "microbank"

const datasource = { type: "prometheus", uid: "${datasource}" } as const

const colours = { green: "green", yellow: "#EAB839", orange: "orange", red: "red" } as const

const fieldDefaults = (p: PanelSpec) => ({
  unit: p.unit,
  ...(p.noValue !== undefined ? { noValue: p.noValue } : {}),
  ...(p.min !== undefined ? { min: p.min } : {}),
  ...(p.max !== undefined ? { max: p.max } : {}),
  color: { mode: p.kind === "stat" ? "thresholds" : "palette-classic" },
  thresholds: {
    mode: "absolute",
    steps: [
      { color: colours.green, value: null },
      ...(p.thresholds ?? []).map(([value, colour]) => ({ color: colours[colour], value }))
    ]
  },
  ...(p.kind === "timeseries"
    ? {
        custom: {
          drawStyle: "line",
          lineWidth: 1,
          fillOpacity: p.stacked ? 30 : 10,
          showPoints: "never",
          spanNulls: false,
          stacking: { mode: p.stacked ? "normal" : "none", group: "A" },
          thresholdsStyle: { mode: p.thresholds ? "line" : "off" }
        }
      }
    : {})
})

const sourceNote = (s: Source | undefined): string =>
  s?.kind === "cluster"
    ? ` Cluster only: ${s.reason}.`
    : s?.kind === "pending"
      ? ` Shows data once ${s.service} runs: ${s.reason}.`
      : ""

const linkUrl = (uid: string) => `/d/${uid}?\${__url_time_range}&\${namespace:queryparam}&\${service:queryparam}`

const options = (p: PanelSpec) => {
  switch (p.kind) {
    case "timeseries":
      return {
        legend: { showLegend: true, displayMode: "table", placement: "bottom", calcs: ["mean", "max", "lastNotNull"] },
        tooltip: { mode: "multi", sort: "desc" }
      }
    case "stat":
      return {
        reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
        colorMode: "value",
        graphMode: "area",
        justifyMode: "auto",
        textMode: "auto",
        orientation: "auto"
      }
    case "table":
      return { showHeader: true, cellHeight: "sm", footer: { show: false, reducer: ["sum"], fields: "" } }
  }
}

const panelJson = (p: PanelSpec, id: number, gridPos: { x: number; y: number; w: number; h: number }) => ({
  id,
  type: p.kind,
  title: p.title,
  description: p.description + sourceNote(p.source),
  datasource,
  gridPos,
  targets: p.queries.map((q, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource,
    expr: q.expr,
    legendFormat: q.legend ?? "__auto",
    range: !q.instant,
    instant: q.instant === true,
    ...(p.kind === "table" ? { format: "table" } : {})
  })),
  fieldConfig: {
    defaults: fieldDefaults(p),
    overrides: (p.columnUnits ?? []).map((unit, i) => ({
      matcher: { id: "byName", options: p.queries.length > 1 ? `Value #${String.fromCharCode(65 + i)}` : "Value" },
      properties: [{ id: "unit", value: unit }]
    }))
  },
  options: options(p),
  ...(p.kind === "table"
    ? {
        transformations: [
          { id: "merge", options: {} },
          { id: "organize", options: { excludeByName: { Time: true } } }
        ]
      }
    : {}),
  links: (p.links ?? []).map((l) => ({ title: l.title, url: linkUrl(l.dashboard) }))
})

const variableJson = (v: VariableSpec) => ({
  type: "query",
  name: v.name,
  label: v.label,
  datasource,
  query: { query: v.query, refId: `${v.name}-variable` },
  definition: v.query,
  refresh: 2,
  sort: 1,
  multi: v.multi,
  includeAll: v.multi,
  ...(v.multi ? { allValue: ".*", current: { text: ["All"], value: ["$__all"] } } : { current: {} }),
  hide: 0,
  options: []
})

/** The Grafana JSON model of a dashboard. */
export const render = (d: DashboardSpec): Record<string, unknown> => {
  const panels: Array<unknown> = []
  let id = 1
  let y = 0
  for (const row of d.rows) {
    panels.push({
      id: id++,
      type: "row",
      title: row.title,
      collapsed: false,
      gridPos: { x: 0, y, w: 24, h: 1 },
      panels: []
    })
    y += 1
    let x = 0
    let rowHeight = 0
    for (const p of row.panels) {
      const w = p.width ?? 8
      const h = p.height ?? (p.kind === "stat" ? 4 : 8)
      if (x + w > 24) {
        x = 0
        y += rowHeight
        rowHeight = 0
      }
      panels.push(panelJson(p, id++, { x, y, w, h }))
      x += w
      rowHeight = Math.max(rowHeight, h)
    }
    y += rowHeight
  }
  return {
    uid: d.uid,
    title: d.title,
    description: `${d.description} Generated from packages/observability (npm run generate --workspace @troupe/observability): edit the TypeScript, not this file.`,
    tags: [tag],
    editable: false,
    graphTooltip: 1,
    timezone: "browser",
    refresh: "30s",
    time: { from: "now-3h", to: "now" },
    schemaVersion: 39,
    version: 1,
    links: [
      {
        type: "dashboards",
        title: "Microbank",
        tags: [tag],
        asDropdown: false,
        includeVars: true,
        keepTime: true,
        targetBlank: false,
        icon: "external link",
        tooltip: "",
        url: ""
      }
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: "grafana", uid: "-- Grafana --" },
          enable: true,
          hide: true,
          iconColor: "rgba(0, 211, 255, 1)",
          name: "Annotations & Alerts",
          type: "dashboard"
        }
      ]
    },
    templating: {
      list: [
        {
          type: "datasource",
          name: "datasource",
          label: "Data source",
          query: "prometheus",
          current: {},
          hide: 0,
          refresh: 1,
          options: []
        },
        ...d.variables.map(variableJson)
      ]
    },
    panels
  }
}

/** Every panel of a dashboard with its row. */
export const panelsOf = (d: DashboardSpec): Array<{ readonly row: string; readonly panel: PanelSpec }> =>
  d.rows.flatMap((row) => row.panels.map((panel) => ({ row: row.title, panel })))
