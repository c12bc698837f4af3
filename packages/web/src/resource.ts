/**
 * Loading data for a screen: the previous data stays on screen while a refresh runs (no
 * flicker, no layout jump), errors are kept as problems for `<ErrorNotice>`, and a request
 * that is no longer wanted is aborted.
 */
import { useCallback, useEffect, useRef, useState } from "react"
import { ApiError, networkProblem } from "./api.ts"

export interface Resource<T> {
  readonly data: T | undefined
  readonly error: ApiError | undefined
  /** True while a request is running (also during a refresh that keeps `data`). */
  readonly loading: boolean
  /** True while `data` is what an earlier key loaded (`keepPrevious`), until this key's arrives. */
  readonly previous: boolean
  readonly reload: () => void
}

/**
 * Runs `load` whenever `key` changes (`null`: do nothing yet) or `reload()` is called.
 * `load` must depend only on what `key` names.
 */
export const useResource = <T>(
  key: string | null,
  load: (signal: AbortSignal) => Promise<T>,
  options: { readonly keepPrevious?: boolean } = {}
): Resource<T> => {
  const [state, setState] = useState<{
    readonly key: string | null
    readonly data?: T
    /** The key `data` was loaded for. */
    readonly dataKey?: string | null
    readonly error?: ApiError | undefined
    readonly loading: boolean
  }>({ key, loading: key !== null })
  const [version, setVersion] = useState(0)
  const loadRef = useRef(load)
  // Declared before the loading effect, so that effect always calls the latest `load`.
  useEffect(() => {
    loadRef.current = load
  })

  useEffect(() => {
    if (key === null) return
    const controller = new AbortController()
    setState((s) => ({ ...s, key, loading: true, ...(s.key === key ? {} : { error: undefined }) }))
    loadRef.current(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ key, data, dataKey: key, loading: false })
      },
      (error: unknown) => {
        if (controller.signal.aborted) return
        const apiError = error instanceof ApiError ? error : new ApiError(networkProblem)
        setState((s) => ({ ...s, key, error: apiError, loading: false }))
      }
    )
    return () => controller.abort()
  }, [key, version])

  const reload = useCallback(() => setVersion((v) => v + 1), [])
  // Data of another key is not shown (the previous account while the next one loads), unless
  // asked for: the previous page of a list stays (dimmed) until the next one arrives.
  const current = state.key === key
  const fresh = state.dataKey === key
  return {
    data: fresh || (options.keepPrevious && key !== null) ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: current ? state.loading : key !== null,
    previous: !fresh && options.keepPrevious === true && key !== null && state.data !== undefined,
    reload
  }
}

/**
 * Refreshes a resource `everyMs` after each load finished, while `active` (a job running, a
 * purchase on its way): never two requests at once, nothing while the tab is hidden (it catches
 * up as soon as it is shown), and five times slower while the server is failing.
 */
export const usePolling = (
  resource: Pick<Resource<unknown>, "loading" | "error" | "reload">,
  active: boolean,
  everyMs: number
): void => {
  const { loading, error, reload } = resource
  const failing = error !== undefined
  useEffect(() => {
    if (!active || loading) return
    const timer = window.setTimeout(
      () => {
        if (document.visibilityState !== "hidden") reload()
      },
      failing ? Math.min(everyMs * 5, 30_000) : everyMs
    )
    const onVisible = () => {
      if (document.visibilityState !== "visible") return
      window.clearTimeout(timer)
      reload()
    }
    document.addEventListener("visibilitychange", onVisible)
    return () => {
      window.clearTimeout(timer)
      document.removeEventListener("visibilitychange", onVisible)
    }
  }, [active, loading, failing, reload, everyMs])
}
