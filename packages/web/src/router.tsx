/**
 * A small History-API router: real paths (the gateway falls back to `index.html` outside
 * `/api`, so a reload or a shared link lands on the same screen), `<Link>` for in-app
 * navigation that still opens in a new tab with Ctrl/Cmd-click.
 */
import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from "react"

const changed = "microbank:navigate"

const subscribe = (listener: () => void) => {
  window.addEventListener("popstate", listener)
  window.addEventListener(changed, listener)
  return () => {
    window.removeEventListener("popstate", listener)
    window.removeEventListener(changed, listener)
  }
}

const snapshot = () => window.location.pathname + window.location.search

export interface Location {
  readonly pathname: string
  readonly search: URLSearchParams
  /** pathname + search, for `?next=` links */
  readonly href: string
}

let cached: Location | undefined
const current = (): Location => {
  const href = snapshot()
  if (cached?.href !== href) {
    cached = { pathname: window.location.pathname, search: new URLSearchParams(window.location.search), href }
  }
  return cached
}

export const useLocation = (): Location => useSyncExternalStore(subscribe, current)

export const navigate = (to: string, options: { readonly replace?: boolean } = {}): void => {
  if (to === snapshot()) return
  if (options.replace) window.history.replaceState(null, "", to)
  else window.history.pushState(null, "", to)
  window.dispatchEvent(new Event(changed))
}

/** Matches `/accounts/:id` style patterns; returns the parameters or undefined. */
export const match = (pattern: string, pathname: string): Record<string, string> | undefined => {
  const want = pattern.split("/")
  const got = pathname.replace(/\/+$/, "").split("/")
  if (pathname === "/" && pattern === "/") return {}
  if (want.length !== got.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!
    const g = got[i]!
    if (w.startsWith(":")) {
      if (g === "") return undefined
      params[w.slice(1)] = decodeURIComponent(g)
    } else if (w !== g) return undefined
  }
  return params
}

export type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { readonly to: string }

export const Link = ({ to, onClick, ...props }: LinkProps) => {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event)
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey ||
      (props.target !== undefined && props.target !== "_self")
    )
      return
    event.preventDefault()
    navigate(to)
  }
  return <a href={to} onClick={handle} {...props} />
}
