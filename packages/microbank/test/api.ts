// A small HTTP client for driving Microbank the way a user would with curl.
export interface Response<T = any> {
  readonly status: number
  readonly body: T
  readonly headers: Headers
}

export class Api {
  readonly base: string
  readonly token: string | undefined
  constructor(base: string, token?: string) {
    this.base = base
    this.token = token
  }

  as(token: string | undefined): Api {
    return new Api(this.base, token)
  }

  async request<T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {}
  ): Promise<Response<T>> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...headers
      },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) })
    })
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = text === "" ? undefined : JSON.parse(text)
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed as T, headers: response.headers }
  }

  get<T = any>(path: string) {
    return this.request<T>("GET", path)
  }
  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>("POST", path, body, headers)
  }

  async login(username: string, password: string): Promise<Api> {
    const r = await this.post("/api/auth/login", { username, password })
    if (r.status !== 200) throw new Error(`login of ${username} failed: ${r.status} ${JSON.stringify(r.body)}`)
    return this.as(r.body.access_token)
  }

  /** Registers a customer and returns a client logged in as them. */
  async customer(name: string): Promise<{ api: Api; user: any; username: string; password: string }> {
    const username = `${name}${Math.random().toString(36).slice(2, 8)}`
    const password = "correct horse battery"
    const r = await this.as(undefined).post("/api/auth/register", {
      username,
      name: `${name[0]!.toUpperCase()}${name.slice(1)} Tester`,
      email: `${username}@example.com`,
      password
    })
    if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`)
    return { api: await this.login(username, password), user: r.body, username, password }
  }
}

/** Polls `check` until it returns a value (not undefined) or the timeout passes. */
export const eventually = async <T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = "condition"
): Promise<T> => {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`)
}
