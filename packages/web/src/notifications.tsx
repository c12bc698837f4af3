/**
 * Live notifications: polls `GET /api/notifications?after=<newest id>` (ids are time-ordered, so
 * the answer holds only what is new), shows new ones as toasts in a polite live region, counts
 * unread ones, and bumps `activity` so screens showing balances refresh themselves without a
 * reload. Polling pauses while the tab is hidden and backs off while the server is unreachable.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react"
import { api, ApiError, type Notification } from "./api.ts"
import { useLocation } from "./router.tsx"

const pollEveryMs = 3_000
const maxBackoffMs = 30_000
const keep = 100

export interface Notifications {
  /** Newest first; undefined until the first answer. */
  readonly items: ReadonlyArray<Notification> | undefined
  readonly error: ApiError | undefined
  readonly unread: number
  /** Increases whenever new notifications arrive: a reason to refresh balances. */
  readonly activity: number
  readonly markAllRead: () => void
  /** Polls now (after the user did something that will produce a notification). */
  readonly pollNow: () => void
}

const NotificationsContext = createContext<Notifications | undefined>(undefined)

interface Toast {
  readonly id: string
  readonly message: string
}

const readMarker = (userId: string) => `microbank.notifications.read.${userId}`

export const NotificationsProvider = ({
  userId,
  children
}: {
  readonly userId: string
  readonly children: ReactNode
}) => {
  const [items, setItems] = useState<ReadonlyArray<Notification> | undefined>(undefined)
  const [error, setError] = useState<ApiError | undefined>(undefined)
  const [activity, setActivity] = useState(0)
  const [toasts, setToasts] = useState<ReadonlyArray<Toast>>([])
  // Which notification was read last is not a secret: it may outlive the tab.
  const [lastRead, setLastRead] = useState<string>(() => window.localStorage.getItem(readMarker(userId)) ?? "")
  const wake = useRef<() => void>(() => {})
  // The notifications screen lists new ones itself: no toasts on top of it.
  const { pathname } = useLocation()
  const listShown = useRef(false)
  useEffect(() => {
    listShown.current = pathname === "/notifications"
  }, [pathname])

  useEffect(() => {
    let stopped = false
    let timer: number | undefined
    let controller: AbortController | undefined
    let newest: string | undefined
    let first = true
    let delay = pollEveryMs

    const schedule = (ms: number) => {
      window.clearTimeout(timer)
      timer = window.setTimeout(poll, ms)
    }
    const poll = async () => {
      if (stopped) return
      if (document.visibilityState === "hidden") return schedule(pollEveryMs)
      controller?.abort()
      controller = new AbortController()
      try {
        const fresh = await api.notifications(
          { user_id: userId, limit: first ? 50 : 200, after: newest },
          controller.signal
        )
        if (stopped) return
        setError(undefined)
        delay = pollEveryMs
        if (fresh.length > 0) {
          newest = fresh[0]!.id
          setItems((old) => [...fresh, ...(old ?? [])].slice(0, keep))
          if (!first) {
            setActivity((a) => a + 1)
            if (!listShown.current)
              setToasts((old) => [...fresh.map((n) => ({ id: n.id, message: n.message })), ...old].slice(0, 3))
          }
        } else if (first) setItems([])
        first = false
      } catch (e) {
        if (stopped || controller.signal.aborted) return
        if (e instanceof ApiError) {
          if (e.problem.status === 401) return // the session ends; this provider unmounts
          setError(e)
        }
        delay = Math.min(delay * 2, maxBackoffMs)
      }
      schedule(delay)
    }
    wake.current = () => schedule(0)
    const onVisible = () => {
      if (document.visibilityState === "visible") schedule(0)
    }
    document.addEventListener("visibilitychange", onVisible)
    void poll()
    return () => {
      stopped = true
      window.clearTimeout(timer)
      controller?.abort()
      document.removeEventListener("visibilitychange", onVisible)
      wake.current = () => {}
    }
  }, [userId])

  const newestId = items?.[0]?.id
  const markAllRead = useCallback(() => {
    if (newestId === undefined) return
    setLastRead(newestId)
    window.localStorage.setItem(readMarker(userId), newestId)
  }, [newestId, userId])

  const pollNow = useCallback(() => wake.current(), [])
  const unread = useMemo(() => (items ?? []).filter((n) => n.id > lastRead).length, [items, lastRead])

  const dismiss = useCallback((id: string) => setToasts((old) => old.filter((t) => t.id !== id)), [])

  const value = useMemo(
    () => ({ items, error, unread, activity, markAllRead, pollNow }),
    [items, error, unread, activity, markAllRead, pollNow]
  )
  return (
    <NotificationsContext.Provider value={value}>
      {children}
      <Toasts toasts={toasts} dismiss={dismiss} />
    </NotificationsContext.Provider>
  )
}

const toastMs = 8_000

const ToastItem = ({ toast, dismiss }: { readonly toast: Toast; readonly dismiss: (id: string) => void }) => {
  const [paused, setPaused] = useState(false)
  useEffect(() => {
    if (paused) return
    const timer = window.setTimeout(() => dismiss(toast.id), toastMs)
    return () => window.clearTimeout(timer)
  }, [paused, toast.id, dismiss])
  return (
    <li
      className="toast"
      onMouseEnter={() => setPaused(true)}
      onMouseLeave={() => setPaused(false)}
      onFocus={() => setPaused(true)}
      onBlur={() => setPaused(false)}
    >
      <span className="toast-message">{toast.message}</span>
      <button type="button" className="icon-button" aria-label="Dismiss notification" onClick={() => dismiss(toast.id)}>
        ×
      </button>
    </li>
  )
}

/** New notifications, announced politely by screen readers; dismissed after a while unless hovered or focused. */
const Toasts = ({
  toasts,
  dismiss
}: {
  readonly toasts: ReadonlyArray<Toast>
  readonly dismiss: (id: string) => void
}) => (
  <div className="toasts" role="status" aria-live="polite" aria-label="New notifications">
    <ul>
      {toasts.map((t) => (
        <ToastItem key={t.id} toast={t} dismiss={dismiss} />
      ))}
    </ul>
  </div>
)

export const useNotifications = (): Notifications => {
  const value = useContext(NotificationsContext)
  if (value === undefined) throw new Error("useNotifications outside <NotificationsProvider>")
  return value
}
