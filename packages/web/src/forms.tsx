/**
 * Form fields with their errors next to them (linked by `aria-describedby`, flagged with
 * `aria-invalid`), and the translation of server problems into those errors: a 422's
 * `errors[].path` (["payload", "email"]) names the field, Microbank's typed problems
 * (insufficient funds, conflict on a field...) name theirs, the rest is said above the form.
 */
import {
  type InputHTMLAttributes,
  type ReactNode,
  type RefObject,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
  useCallback,
  useEffect,
  useId,
  useState
} from "react"
import { ApiError, isProblem, networkProblem, type Problem } from "./api.ts"
import { formatMoney } from "./format.ts"

export type FieldErrors = Readonly<Record<string, string | undefined>>

export interface FormErrors {
  readonly fields: FieldErrors
  /** A problem that belongs to no single field. */
  readonly form?: string | undefined
}

export const noErrors: FormErrors = { fields: {} }

export const hasErrors = (errors: FormErrors): boolean =>
  errors.form !== undefined || Object.values(errors.fields).some((m) => m !== undefined)

/** "the account is closed" → "The account is closed." */
export const sentence = (text: string): string => {
  const trimmed = text.trim()
  if (trimmed === "") return trimmed
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1)
  return /[.!?]$/.test(capital) ? capital : `${capital}.`
}

/** One line for a problem that no field owns. */
export const describeProblem = (problem: Problem): string => {
  if (problem.status === 0) return `${problem.title}. ${problem.detail ?? ""}`.trim()
  if (problem.type.endsWith("/rate-limited")) {
    const seconds = Number(problem.retry_after_seconds)
    return Number.isFinite(seconds) && seconds > 0
      ? `Too many attempts. Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`
      : "Too many attempts. Try again in a moment."
  }
  if (problem.type.endsWith("/service-unavailable"))
    return `The ${String(problem.service ?? "banking")} service is not available right now. Try again in a moment.`
  if (problem.type.endsWith("/not-found")) return `This ${String(problem.resource ?? "item")} was not found.`
  if (problem.status >= 500) return "Something went wrong on our side. Try again in a moment."
  return problem.detail ? sentence(problem.detail) : sentence(problem.title)
}

export const errorMessage = (error: unknown): string =>
  describeProblem(error instanceof ApiError ? error.problem : networkProblem)

export interface ProblemContext {
  /** Field name → label, to phrase "must be ..." messages: "Password must be at least 8 characters." */
  readonly labels: Readonly<Record<string, string>>
  /** Currency of the amounts, for insufficient-funds messages. */
  readonly currency?: string
  /** Which field a not-found account id belongs to (a transfer's destination, say). */
  readonly accountField?: (accountId: string) => string | undefined
  /** The field that takes the amount. */
  readonly amountField?: string
  /**
   * The field a 422 error path names, for nested payloads (a pipeline's
   * ["payload", "steps", 1, "params", "account_id"]); tried before the labels.
   */
  readonly field?: (path: ReadonlyArray<string | number>) => string | undefined
}

const fieldMessage = (label: string | undefined, message: string): string => {
  const m = message.trim()
  if (label !== undefined && /^(must|a |an |is |has )/i.test(m)) return sentence(`${label} ${m}`)
  if (/^Expected a value with a length of at least 1/.test(m)) return "This field is required."
  return sentence(m)
}

/** Server problem → errors next to the fields it concerns, or one message for the form. */
export const problemToErrors = (error: unknown, context: ProblemContext): FormErrors => {
  if (!(error instanceof ApiError)) return { fields: {}, form: describeProblem(networkProblem) }
  const problem = error.problem
  const fields: Record<string, string> = {}
  const unplaced: Array<string> = []
  for (const e of problem.errors ?? []) {
    const [where, name] = e.path
    const nested = context.field?.(e.path)
    if (nested !== undefined) {
      // A union reports one failure per member: the first says it best.
      fields[nested] ??= fieldMessage(context.labels[nested], e.message)
    } else if (where === "payload" && typeof name === "string" && name in context.labels) {
      fields[name] ??= fieldMessage(context.labels[name], e.message)
    } else unplaced.push(e.message)
  }
  if (problem.errors !== undefined && problem.errors.length > 0) {
    return { fields, form: unplaced.length > 0 ? sentence(unplaced[0]!) : undefined }
  }
  const amountField = context.amountField ?? "amount"
  if (isProblem(error, "insufficient-funds")) {
    const currency = context.currency ?? "USD"
    return {
      fields: {
        [amountField]: `Insufficient funds: the balance is ${formatMoney(String(problem.balance), currency)} and this needs ${formatMoney(String(problem.requested), currency)}.`
      }
    }
  }
  if (isProblem(error, "conflict") && typeof problem.field === "string" && problem.field in context.labels) {
    return { fields: { [problem.field]: sentence(problem.detail ?? "Already taken") } }
  }
  if (isProblem(error, "not-found") && problem.resource === "account" && context.accountField) {
    const field = context.accountField(String(problem.id))
    if (field !== undefined) return { fields: { [field]: "No open account has this number." } }
  }
  if (isProblem(error, "account-closed") && context.accountField) {
    const field = context.accountField(String(problem.account_id))
    if (field !== undefined) return { fields: { [field]: "This account is closed." } }
  }
  return { fields: {}, form: describeProblem(problem) }
}

/**
 * Returns a function that, once React has rendered the errors it comes with, moves focus to the
 * first field flagged invalid (or the form's alert), so the error is read out and fixed at once.
 */
export const useFocusInvalid = (form: RefObject<HTMLFormElement | null>): (() => void) => {
  const [request, setRequest] = useState(0)
  useEffect(() => {
    if (request === 0) return
    const root = form.current
    const target =
      root?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? root?.querySelector<HTMLElement>(".form-alert")
    target?.focus()
  }, [request, form])
  return useCallback(() => setRequest((r) => r + 1), [])
}

interface FieldFrame {
  readonly label: ReactNode
  readonly error?: string | undefined
  readonly hint?: ReactNode
  readonly optional?: boolean | undefined
}

const useFieldIds = (id: string | undefined) => {
  const generated = useId()
  const base = id ?? generated
  return { input: base, hint: `${base}-hint`, error: `${base}-error` }
}

const describedBy = (ids: ReturnType<typeof useFieldIds>, hint: ReactNode, error: string | undefined) =>
  [hint !== undefined ? ids.hint : undefined, error !== undefined ? ids.error : undefined].filter(Boolean).join(" ") ||
  undefined

const Frame = ({
  ids,
  label,
  error,
  hint,
  optional,
  children
}: FieldFrame & { readonly ids: ReturnType<typeof useFieldIds>; readonly children: ReactNode }) => (
  <div className={`field${error !== undefined ? " field-invalid" : ""}`}>
    <label htmlFor={ids.input}>
      {label}
      {optional ? <span className="optional"> (optional)</span> : null}
    </label>
    {hint !== undefined ? (
      <p className="hint" id={ids.hint}>
        {hint}
      </p>
    ) : null}
    {children}
    {/* Always rendered, so an error appearing does not push the form down. */}
    <p className="field-error" id={ids.error}>
      {error}
    </p>
  </div>
)

export type TextFieldProps = FieldFrame &
  Omit<InputHTMLAttributes<HTMLInputElement>, "onChange" | "value"> & {
    readonly value: string
    readonly onValue: (value: string) => void
    readonly suffix?: string | undefined
  }

export const TextField = ({ label, error, hint, optional, id, value, onValue, suffix, ...input }: TextFieldProps) => {
  const ids = useFieldIds(id)
  return (
    <Frame ids={ids} label={label} error={error} hint={hint} optional={optional}>
      <div className={suffix !== undefined ? "input-with-suffix" : undefined}>
        <input
          id={ids.input}
          value={value}
          onChange={(e) => onValue(e.target.value)}
          aria-invalid={error !== undefined ? true : undefined}
          aria-describedby={describedBy(ids, hint, error)}
          {...input}
        />
        {suffix !== undefined ? (
          <span className="suffix" aria-hidden="true">
            {suffix}
          </span>
        ) : null}
      </div>
    </Frame>
  )
}

export type SelectFieldProps = FieldFrame &
  Omit<SelectHTMLAttributes<HTMLSelectElement>, "onChange" | "value"> & {
    readonly value: string
    readonly onValue: (value: string) => void
    readonly children: ReactNode
  }

export const SelectField = ({
  label,
  error,
  hint,
  optional,
  id,
  value,
  onValue,
  children,
  ...select
}: SelectFieldProps) => {
  const ids = useFieldIds(id)
  return (
    <Frame ids={ids} label={label} error={error} hint={hint} optional={optional}>
      <select
        id={ids.input}
        value={value}
        onChange={(e) => onValue(e.target.value)}
        aria-invalid={error !== undefined ? true : undefined}
        aria-describedby={describedBy(ids, hint, error)}
        {...select}
      >
        {children}
      </select>
    </Frame>
  )
}

export type TextAreaFieldProps = FieldFrame &
  Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "onChange" | "value"> & {
    readonly value: string
    readonly onValue: (value: string) => void
  }

export const TextAreaField = ({
  label,
  error,
  hint,
  optional,
  id,
  value,
  onValue,
  ...textarea
}: TextAreaFieldProps) => {
  const ids = useFieldIds(id)
  return (
    <Frame ids={ids} label={label} error={error} hint={hint} optional={optional}>
      <textarea
        id={ids.input}
        value={value}
        onChange={(e) => onValue(e.target.value)}
        aria-invalid={error !== undefined ? true : undefined}
        aria-describedby={describedBy(ids, hint, error)}
        {...textarea}
      />
    </Frame>
  )
}

/** A message for the whole form; focusable so it can receive focus when there is no field to focus. */
export const FormAlert = ({ message }: { readonly message: string | undefined }) =>
  message === undefined ? null : (
    <div className="form-alert" role="alert" tabIndex={-1}>
      {message}
    </div>
  )
