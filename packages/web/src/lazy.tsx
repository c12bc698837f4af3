/**
 * Screens that are not part of the first download (purchases, ingest, jobs): each is its own
 * chunk, fetched when first shown — or earlier, when the browser is idle after sign-in, so that
 * opening it later is instant and still works if the network goes away in between.
 *
 * Not `React.lazy`: once a chunk is loaded the screen renders at once, without a Suspense
 * fallback flashing in between, and a chunk that fails to load (offline, or a new version
 * deployed meanwhile) says so with a way out instead of an uncaught error.
 */
import { type ComponentType, type JSX, useEffect, useState } from "react"

export interface LazyScreen<P extends object> {
  (props: P): JSX.Element
  /** Starts fetching the chunk (once); resolves when it is there. */
  readonly preload: () => Promise<void>
}

export const lazyScreen = <P extends object>(load: () => Promise<ComponentType<P>>): LazyScreen<P> => {
  let component: ComponentType<P> | undefined
  let loading: Promise<void> | undefined
  const preload = (): Promise<void> =>
    (loading ??= load().then(
      (loaded) => {
        component = loaded
      },
      (error: unknown) => {
        loading = undefined // a later attempt fetches again
        throw error
      }
    ))

  const Screen = (props: P): JSX.Element => {
    const [state, setState] = useState<"loading" | "ready" | "failed">(component === undefined ? "loading" : "ready")
    useEffect(() => {
      if (state !== "loading") return
      let live = true
      preload().then(
        () => live && setState("ready"),
        () => live && setState("failed")
      )
      return () => {
        live = false
      }
    }, [state])
    const Loaded = component
    if (Loaded !== undefined) return <Loaded {...props} />
    if (state === "failed") {
      return (
        <div className="card notice-error" role="alert">
          <p>This screen could not be loaded. Check your connection, then try again.</p>
          <div className="button-row">
            <button type="button" className="button button-secondary" onClick={() => setState("loading")}>
              Try again
            </button>
            <button type="button" className="button button-secondary" onClick={() => window.location.reload()}>
              Reload the page
            </button>
          </div>
        </div>
      )
    }
    return (
      <div aria-busy="true">
        <div className="page-header page-header-skeleton" aria-hidden="true">
          <span className="skeleton-line" />
        </div>
        <div className="card">
          <div className="skeleton" role="status">
            <span className="visually-hidden">Loading…</span>
            {Array.from({ length: 4 }, (_, i) => (
              <span key={i} className="skeleton-line" aria-hidden="true" />
            ))}
          </div>
        </div>
      </div>
    )
  }
  return Object.assign(Screen, { preload })
}

/** Runs `work` when the browser has nothing better to do (soon, where it cannot tell). */
export const whenIdle = (work: () => void): (() => void) => {
  if (typeof window.requestIdleCallback === "function") {
    const handle = window.requestIdleCallback(work, { timeout: 3_000 })
    return () => window.cancelIdleCallback(handle)
  }
  const timer = window.setTimeout(work, 1_000)
  return () => window.clearTimeout(timer)
}
