import { type FormEvent, useRef, useState } from "react"
import { api, type Registration, type Role } from "../api.ts"
import {
  type FormErrors,
  FormAlert,
  hasErrors,
  noErrors,
  problemToErrors,
  SelectField,
  TextField,
  useFocusInvalid
} from "../forms.tsx"
import { Link } from "../router.tsx"
import { useSession } from "../session.tsx"
import { PageHeader } from "../ui.tsx"
import { checkEmail, checkName, checkPassword, checkPhone, checkUsername } from "../validation.ts"
import { AuthFrame } from "./Login.tsx"

export interface UserDraft {
  readonly username: string
  readonly name: string
  readonly email: string
  readonly phone: string
  readonly password: string
  readonly role: Role
}

export const emptyDraft: UserDraft = { username: "", name: "", email: "", phone: "", password: "", role: "customer" }

export const userLabels = {
  username: "Username",
  name: "Full name",
  email: "Email",
  phone: "Phone",
  password: "Password",
  role: "Role"
}

export const checkDraft = (d: UserDraft): FormErrors => ({
  fields: {
    username: checkUsername(d.username),
    name: checkName(d.name),
    email: checkEmail(d.email),
    phone: checkPhone(d.phone),
    password: checkPassword(d.password)
  }
})

export const toRegistration = (d: UserDraft): Registration => ({
  username: d.username,
  name: d.name.trim(),
  email: d.email.trim(),
  phone: d.phone.trim() === "" ? null : d.phone.trim(),
  password: d.password
})

/** The fields of a new user, shared by registration and an admin creating a user. */
export const UserFields = ({
  draft,
  set,
  errors,
  withRole
}: {
  readonly draft: UserDraft
  readonly set: (d: UserDraft) => void
  readonly errors: FormErrors
  readonly withRole?: boolean
}) => (
  <>
    <TextField
      label="Full name"
      name="name"
      autoComplete={withRole ? "off" : "name"}
      value={draft.name}
      onValue={(name) => set({ ...draft, name })}
      error={errors.fields.name}
      maxLength={100}
      required
    />
    <TextField
      label="Username"
      name="username"
      hint="3 to 32 lowercase letters, digits, '.', '_' or '-'."
      autoComplete={withRole ? "off" : "username"}
      autoCapitalize="none"
      spellCheck={false}
      value={draft.username}
      onValue={(username) => set({ ...draft, username: username.toLowerCase() })}
      error={errors.fields.username}
      maxLength={32}
      required
    />
    <TextField
      label="Email"
      name="email"
      type="email"
      autoComplete={withRole ? "off" : "email"}
      value={draft.email}
      onValue={(email) => set({ ...draft, email })}
      error={errors.fields.email}
      required
    />
    <TextField
      label="Phone"
      name="phone"
      type="tel"
      optional
      autoComplete={withRole ? "off" : "tel"}
      value={draft.phone}
      onValue={(phone) => set({ ...draft, phone })}
      error={errors.fields.phone}
    />
    <TextField
      label="Password"
      name="password"
      type="password"
      hint="At least 8 characters."
      autoComplete="new-password"
      value={draft.password}
      onValue={(password) => set({ ...draft, password })}
      error={errors.fields.password}
      maxLength={128}
      required
    />
    {withRole ? (
      <SelectField
        label="Role"
        name="role"
        value={draft.role}
        onValue={(role) => set({ ...draft, role: role as Role })}
        error={errors.fields.role}
      >
        <option value="customer">Customer</option>
        <option value="admin">Administrator</option>
      </SelectField>
    ) : null}
  </>
)

export const Register = () => {
  const { login } = useSession()
  const [draft, setDraft] = useState<UserDraft>(emptyDraft)
  const [errors, setErrors] = useState<FormErrors>(noErrors)
  const [busy, setBusy] = useState(false)
  const form = useRef<HTMLFormElement>(null)
  const focusInvalid = useFocusInvalid(form)

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (busy) return
    const found = checkDraft(draft)
    setErrors(found)
    if (hasErrors(found)) return focusInvalid()
    setBusy(true)
    try {
      await api.register(toRegistration(draft))
    } catch (error) {
      setBusy(false)
      setErrors(problemToErrors(error, { labels: userLabels }))
      return focusInvalid()
    }
    try {
      await login(draft.username, draft.password)
    } catch {
      // Registered, but the automatic login failed (rate limit, say): the login screen explains.
      setBusy(false)
      setErrors({ fields: {}, form: "Your profile is ready, but logging in failed. Log in with your new password." })
      focusInvalid()
    }
  }

  return (
    <AuthFrame>
      <PageHeader title="Create your account" subtitle="A profile takes a minute; accounts open instantly." />
      <form ref={form} onSubmit={submit} noValidate aria-busy={busy}>
        <FormAlert message={errors.form} />
        <UserFields draft={draft} set={setDraft} errors={errors} />
        <button type="submit" className="button button-primary button-block" disabled={busy}>
          {busy ? "Creating your profile…" : "Create profile"}
        </button>
      </form>
      <p className="auth-switch">
        Already a customer? <Link to="/login">Log in</Link>
      </p>
    </AuthFrame>
  )
}
