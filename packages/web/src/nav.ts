/** The main navigation: one line per section of the app. */
import type { Role } from "./api.ts"

export interface Section {
  readonly path: string
  readonly label: string
  /** Shown only to these roles (everyone when absent). */
  readonly roles?: ReadonlyArray<Role>
  /** Whether the section is the current one for a pathname. */
  readonly current: (pathname: string) => boolean
  /** Also reachable from the header (the bell): left out of the menu on phones. */
  readonly inHeader?: boolean
}

export const sections: ReadonlyArray<Section> = [
  { path: "/", label: "Accounts", current: (p) => p === "/" || p.startsWith("/accounts") },
  {
    path: "/transfer",
    label: "Move money",
    current: (p) => p === "/transfer" || p === "/deposit" || p === "/withdraw"
  },
  { path: "/purchases", label: "Purchases", current: (p) => p === "/purchases" },
  { path: "/ingest", label: "Ingest", current: (p) => p === "/ingest" },
  { path: "/jobs", label: "Jobs", current: (p) => p === "/jobs" || p.startsWith("/pipelines") },
  { path: "/notifications", label: "Notifications", current: (p) => p === "/notifications", inHeader: true },
  { path: "/users", label: "Users", roles: ["admin"], current: (p) => p.startsWith("/users") }
]

export const sectionsFor = (role: Role): ReadonlyArray<Section> =>
  sections.filter((s) => s.roles === undefined || s.roles.includes(role))
