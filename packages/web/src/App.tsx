/** Routes, and the gate between the public screens (login, register) and the rest. */
import { useEffect } from "react"
import { Layout } from "./Layout.tsx"
import { lazyScreen, whenIdle } from "./lazy.tsx"
import { NotificationsProvider } from "./notifications.tsx"
import { match, navigate, useLocation } from "./router.tsx"
import { AccountDetail } from "./screens/AccountDetail.tsx"
import { Dashboard } from "./screens/Dashboard.tsx"
import { Login } from "./screens/Login.tsx"
import { MoveMoney } from "./screens/MoveMoney.tsx"
import { NotFound } from "./screens/NotFound.tsx"
import { NotificationsScreen } from "./screens/Notifications.tsx"
import { OpenAccount } from "./screens/OpenAccount.tsx"
import { Register } from "./screens/Register.tsx"
import { NewUser, UserDetail, Users } from "./screens/Users.tsx"
import { useSession } from "./session.tsx"
import { Skeleton } from "./ui.tsx"

// Their own chunks (see BENCHMARKS.md): not needed for the first screen.
const Purchases = lazyScreen(() => import("./screens/Purchases.tsx").then((m) => m.Purchases))
const Ingest = lazyScreen(() => import("./screens/Ingest.tsx").then((m) => m.Ingest))
const Jobs = lazyScreen(() => import("./screens/Jobs.tsx").then((m) => m.Jobs))
const NewPipeline = lazyScreen(() => import("./screens/Pipelines.tsx").then((m) => m.NewPipeline))
const PipelineDetail = lazyScreen(() => import("./screens/Pipelines.tsx").then((m) => m.PipelineDetail))
const lazyScreens = [Purchases, Ingest, Jobs, NewPipeline, PipelineDetail]

const publicPaths = new Set(["/login", "/register"])

/** Only same-origin paths are followed after login (no open redirect through `?next=`). */
export const safeNext = (next: string | null): string =>
  next !== null && next.startsWith("/") && !next.startsWith("//") && !publicPaths.has(next.split("?")[0]!) ? next : "/"

const Screen = ({ pathname, search }: { readonly pathname: string; readonly search: URLSearchParams }) => {
  if (pathname === "/") return <Dashboard />
  if (pathname === "/accounts/new") return <OpenAccount userId={search.get("user") ?? undefined} />
  if (pathname === "/deposit" || pathname === "/withdraw" || pathname === "/transfer") {
    return <MoveMoney key={pathname} kind={pathname.slice(1) as "deposit" | "withdraw" | "transfer"} search={search} />
  }
  if (pathname === "/notifications") return <NotificationsScreen />
  if (pathname === "/users") return <Users page={Math.max(1, Number(search.get("page")) || 1)} />
  if (pathname === "/users/new") return <NewUser />
  if (pathname === "/purchases") return <Purchases />
  if (pathname === "/ingest") return <Ingest type={search.get("type") ?? undefined} />
  if (pathname === "/jobs") return <Jobs />
  if (pathname === "/pipelines/new") return <NewPipeline />
  const account = match("/accounts/:id", pathname)
  if (account !== undefined) return <AccountDetail key={account.id} accountId={account.id!} />
  const user = match("/users/:id", pathname)
  if (user !== undefined) return <UserDetail key={user.id} userId={user.id!} />
  const pipeline = match("/pipelines/:id", pathname)
  if (pipeline !== undefined) return <PipelineDetail key={pipeline.id} pipelineId={pipeline.id!} />
  return <NotFound />
}

export const App = () => {
  const { state } = useSession()
  const location = useLocation()
  const isPublic = publicPaths.has(location.pathname)

  useEffect(() => {
    if (state.status === "anonymous" && !isPublic) {
      const next = location.href === "/" ? "" : `?next=${encodeURIComponent(location.href)}`
      navigate(`/login${next}`, { replace: true })
    }
    if (state.status === "signed-in" && isPublic) navigate(safeNext(location.search.get("next")), { replace: true })
  }, [state.status, isPublic, location])

  // Once signed in and idle, fetch the other screens, so they open at once (and offline).
  const signedIn = state.status === "signed-in"
  useEffect(() => {
    if (!signedIn) return
    return whenIdle(() => {
      for (const screen of lazyScreens) screen.preload().catch(() => {}) // retried when the screen is opened
    })
  }, [signedIn])

  if (state.status === "restoring") {
    return (
      <main id="main" className="centered">
        <Skeleton lines={2} label="Restoring your session" />
      </main>
    )
  }
  if (state.status === "anonymous") {
    return location.pathname === "/register" ? <Register /> : <Login message={state.message} />
  }
  if (isPublic) return null
  return (
    <NotificationsProvider key={state.user.id} userId={state.user.id}>
      <Layout>
        <Screen pathname={location.pathname} search={location.search} />
      </Layout>
    </NotificationsProvider>
  )
}
