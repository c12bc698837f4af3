import { type FormEvent, type ReactNode, useRef, useState } from "react"
import { isProblem } from "../api.ts"
import {
  type FormErrors,
  FormAlert,
  hasErrors,
  noErrors,
  problemToErrors,
  TextField,
  useFocusInvalid
} from "../forms.tsx"
import { Link, useLocation } from "../router.tsx"
import { useSession } from "../session.tsx"
import { PageHeader } from "../ui.tsx"

/** The public frame of the login and registration screens. */
export const AuthFrame = ({ children }: { readonly children: ReactNode }) => (
  <main id="main" className="auth" tabIndex={-1}>
    <div className="auth-brand">
      <span className="brand-mark" aria-hidden="true">
        M
      </span>
      Microbank
    </div>
    <div className="card auth-card">{children}</div>
  </main>
)

export const Login = ({ message }: { readonly message?: string | undefined }) => {
  const { login } = useSession()
  const location = useLocation()
  const [username, setUsername] = useState("")
  const [password, setPassword] = useState("")
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const form = useRef<HTMLFormElement>(null)
  const focusInvalid = useFocusInvalid(form)
  const next = location.search.get("next")

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (busy) return
    const found: FormErrors = {
      fields: {
        username: username.trim() === "" ? "Enter your username." : undefined,
        password: password === "" ? "Enter your password." : undefined
      }
    }
    setErrors(found)
    if (hasErrors(found)) return focusInvalid()
    setBusy(true)
    try {
      await login(username.trim().toLowerCase(), password)
      // The gate in <App> takes the user on to `next`.
    } catch (error) {
      setBusy(false)
      setErrors(
        isProblem(error, "invalid-credentials")
          ? { fields: {}, form: "Invalid username or password." }
          : problemToErrors(error, { labels: { username: "Username", password: "Password" } })
      )
      setPassword("")
      focusInvalid()
    }
  }

  return (
    <AuthFrame>
      <PageHeader title="Log in" />
      <div className="flash-area" role="status">
        {message !== undefined && errors.form === undefined ? <p className="flash flash-info">{message}</p> : null}
      </div>
      <form ref={form} onSubmit={submit} noValidate aria-busy={busy}>
        <FormAlert message={errors.form} />
        <TextField
          label="Username"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          value={username}
          onValue={setUsername}
          error={errors.fields.username}
          required
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onValue={setPassword}
          error={errors.fields.password}
          required
        />
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
      <p className="auth-switch">
        New to Microbank?{" "}
        <Link to={next !== null ? `/register?next=${encodeURIComponent(next)}` : "/register"}>Create an account</Link>
      </p>
    </AuthFrame>
  )
}
