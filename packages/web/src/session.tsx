/**
 * Who is signed in. The bearer token lives in sessionStorage (per tab, gone when the tab
 * closes — never localStorage); a 401 from any call, or the token's expiry, ends the session
 * and the app returns to the login screen with a message saying why.
 */
import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react"
import { api, ApiError, setToken, setUnauthorizedHandler, type User } from "./api.ts"

const storageKey = "microbank.session"

interface Stored {
  readonly token: string
  readonly expiresAt: number
}

const readStored = (): Stored | undefined => {
  try {
    const raw = window.sessionStorage.getItem(storageKey)
    if (raw === null) return undefined
    const parsed = JSON.parse(raw) as Partial<Stored>
    return typeof parsed.token === "string" && typeof parsed.expiresAt === "number"
      ? { token: parsed.token, expiresAt: parsed.expiresAt }
      : undefined
  } catch {
    return undefined
  }
}

const writeStored = (stored: Stored | undefined) => {
  try {
    if (stored === undefined) window.sessionStorage.removeItem(storageKey)
    else window.sessionStorage.setItem(storageKey, JSON.stringify(stored))
  } catch {
    // Storage can be unavailable (private mode quotas): the session then lasts until reload.
  }
}

export type SessionState =
  | { readonly status: "restoring" }
  | { readonly status: "anonymous"; readonly message?: string | undefined }
  | { readonly status: "signed-in"; readonly user: User; readonly expiresAt: number }

export interface Session {
  readonly state: SessionState
  /** Logs in; rejects with an `ApiError` (invalid credentials, rate limit...). */
  readonly login: (username: string, password: string) => Promise<User>
  readonly logout: (message?: string) => void
}

const SessionContext = createContext<Session | undefined>(undefined)

export const expiredMessage = "Your session has ended. Please log in again."

// Set by a login in this page (not by restoring a session on reload): the first screen then
// takes focus, as the login form that had it is gone.
let arrivedByLogin = false
/** True once after a login in this page. */
export const consumeLoginArrival = (): boolean => {
  const arrived = arrivedByLogin
  arrivedByLogin = false
  return arrived
}

export const SessionProvider = ({ children }: { readonly children: ReactNode }) => {
  const [state, setState] = useState<SessionState>(() =>
    readStored() === undefined ? { status: "anonymous" } : { status: "restoring" }
  )

  const end = useCallback((message?: string) => {
    writeStored(undefined)
    setToken(undefined)
    setState({ status: "anonymous", message })
  }, [])

  // Restore a session kept in this tab (reload): the token must still be accepted.
  useEffect(() => {
    const stored = readStored()
    if (stored === undefined) return
    if (stored.expiresAt <= Date.now()) return end(expiredMessage)
    setToken(stored.token)
    const controller = new AbortController()
    api.me(controller.signal).then(
      (user) => setState({ status: "signed-in", user, expiresAt: stored.expiresAt }),
      (error: unknown) => {
        if (controller.signal.aborted) return
        // 401 is handled by the unauthorized handler; anything else (server down) is said plainly.
        if (error instanceof ApiError && error.problem.status === 401) return end(expiredMessage)
        end(
          error instanceof ApiError
            ? `Could not restore your session: ${error.problem.detail ?? error.problem.title}. Please log in again.`
            : expiredMessage
        )
      }
    )
    return () => controller.abort()
  }, [end])

  useEffect(() => {
    setUnauthorizedHandler(() => end(expiredMessage))
    return () => setUnauthorizedHandler(undefined)
  }, [end])

  // End the session when the token expires, even if the tab is idle.
  const expiresAt = state.status === "signed-in" ? state.expiresAt : undefined
  useEffect(() => {
    if (expiresAt === undefined) return
    const timer = window.setTimeout(() => end(expiredMessage), Math.max(0, expiresAt - Date.now()))
    return () => window.clearTimeout(timer)
  }, [expiresAt, end])

  const login = useCallback(async (username: string, password: string) => {
    const token = await api.login(username, password)
    // A little before the server's expiry, so no request is sent with a token about to lapse.
    const stored = { token: token.access_token, expiresAt: Date.now() + Math.max(0, token.expires_in - 15) * 1000 }
    setToken(stored.token)
    try {
      const user = await api.me()
      writeStored(stored)
      arrivedByLogin = true
      setState({ status: "signed-in", user, expiresAt: stored.expiresAt })
      return user
    } catch (error) {
      setToken(undefined)
      throw error
    }
  }, [])

  const logout = useCallback((message?: string) => end(message), [end])

  const value = useMemo(() => ({ state, login, logout }), [state, login, logout])
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>
}

export const useSession = (): Session => {
  const session = useContext(SessionContext)
  if (session === undefined) throw new Error("useSession outside <SessionProvider>")
  return session
}

/** The signed-in user; only for screens rendered behind the sign-in gate. */
export const useUser = (): User => {
  const { state } = useSession()
  if (state.status !== "signed-in") throw new Error("useUser without a signed-in user")
  return state.user
}
