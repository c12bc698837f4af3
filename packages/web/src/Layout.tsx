/**
 * The signed-in frame: skip link, header with navigation, live notification count and the
 * user, a flash message area, and `<main>`. After every navigation focus moves to the new
 * screen's `<h1>` so keyboard and screen-reader users start at the top of what changed.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useRef, useState } from "react"
import { sectionsFor } from "./nav.ts"
import { useNotifications } from "./notifications.tsx"
import { Link, navigate, useLocation } from "./router.tsx"
import { consumeLoginArrival, useSession, useUser } from "./session.tsx"

interface Flash {
  readonly message: string
  readonly path: string
}

const FlashContext = createContext<(message: string, path: string) => void>(() => {})

/** Shows a confirmation at the top of the screen at `path` (navigate there right after). */
export const useFlash = () => useContext(FlashContext)

const BellIcon = () => (
  <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
    <path
      fill="currentColor"
      d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"
    />
  </svg>
)

/**
 * Focuses the screen's `<h1>`, or — for a screen whose code is still arriving — the `<h1>` as
 * soon as it is shown. Returns the cleanup.
 */
const focusHeadingWhenShown = (): (() => void) | undefined => {
  const main = document.getElementById("main")
  const heading = () => main?.querySelector<HTMLElement>("h1") ?? null
  const now = heading()
  if (now !== null) {
    now.focus({ preventScroll: true })
    return undefined
  }
  if (main === null) return undefined
  const observer = new MutationObserver(() => {
    const shown = heading()
    if (shown === null) return
    observer.disconnect()
    shown.focus({ preventScroll: true })
  })
  observer.observe(main, { childList: true, subtree: true })
  return () => observer.disconnect()
}

export const Layout = ({ children }: { readonly children: ReactNode }) => {
  const user = useUser()
  const { logout } = useSession()
  const { unread } = useNotifications()
  const location = useLocation()
  const [flash, setFlash] = useState<Flash | undefined>(undefined)
  const showFlash = useCallback((message: string, path: string) => setFlash({ message, path }), [])

  // A flash belongs to one screen: leaving it clears the message.
  useEffect(() => {
    setFlash((f) => (f !== undefined && f.path !== location.pathname ? undefined : f))
  }, [location.pathname])

  // Not on a fresh page load (the browser starts at the top), but after a login or navigation.
  const first = useRef(true)
  useEffect(() => {
    const initial = first.current
    first.current = false
    if (initial && !consumeLoginArrival()) return
    if (!initial) window.scrollTo(0, 0)
    return focusHeadingWhenShown()
  }, [location.pathname])

  // On phones the menu scrolls sideways: the current section stays in view.
  const nav = useRef<HTMLUListElement>(null)
  useEffect(() => {
    const list = nav.current
    const link = list?.querySelector<HTMLElement>('[aria-current="page"]')
    if (list === null || link === null || link === undefined || list.scrollWidth <= list.clientWidth) return
    const box = list.getBoundingClientRect()
    const item = link.getBoundingClientRect()
    if (item.left < box.left || item.right > box.right) {
      list.scrollLeft += item.left - box.left - (box.width - item.width) / 2
    }
  }, [location.pathname])

  const sections = useMemo(() => sectionsFor(user.role), [user.role])
  const shownFlash = flash !== undefined && flash.path === location.pathname ? flash.message : undefined

  return (
    <FlashContext.Provider value={showFlash}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <div className="app-bar">
          <Link to="/" className="brand" aria-label="Microbank home">
            <span className="brand-mark" aria-hidden="true">
              M
            </span>
            Microbank
          </Link>
          <nav className="main-nav" aria-label="Main">
            <ul ref={nav}>
              {sections.map((s) => (
                <li key={s.path} className={s.inHeader ? "in-header" : undefined}>
                  <Link to={s.path} aria-current={s.current(location.pathname) ? "page" : undefined}>
                    {s.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div className="header-tools">
            <Link
              to="/notifications"
              className="bell"
              aria-label={unread > 0 ? `Notifications, ${unread} unread` : "Notifications, none unread"}
            >
              <BellIcon />
              <span className={`bell-count${unread > 0 ? "" : " bell-count-empty"}`} aria-hidden="true">
                {unread > 99 ? "99+" : unread}
              </span>
            </Link>
            <span className="who">
              <span className="who-name">{user.name}</span>
              {user.role === "admin" ? <span className="badge badge-accent">Admin</span> : null}
            </span>
            <button
              type="button"
              className="button button-quiet"
              onClick={() => {
                logout("You have logged out.")
                navigate("/login", { replace: true })
              }}
            >
              Log out
            </button>
          </div>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <div className="flash-area" role="status">
          {shownFlash !== undefined ? <p className="flash">{shownFlash}</p> : null}
        </div>
        {children}
      </main>
    </FlashContext.Provider>
  )
}
