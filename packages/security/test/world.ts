// What the embedded attacks share: one Microbank, its admin, and helpers to make customers with data.
import { Client, type Embedded, eventually } from "../src/Microbank.ts"
import * as OpenApiModel from "../src/OpenApiModel.ts"

export interface World {
  readonly microbank: Embedded
  readonly admin: Client
  readonly document: OpenApiModel.Document
}

export interface Customer {
  readonly client: Client
  readonly user: { readonly id: string; readonly username: string }
  readonly username: string
  readonly password: string
  readonly token: string
  /** An open checking account with 500.00, and a second one. */
  readonly accounts: ReadonlyArray<{ readonly id: string }>
  readonly job: { readonly id: string }
  readonly pipeline: { readonly id: string }
}

const expect = <T>(r: { status: number; text: string; body: T }, status: number, what: string): T => {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status} ${r.text.slice(0, 300)}`)
  return r.body
}

/** A customer with two accounts (one funded), a purchase, a job and a pipeline of their own. */
export const customer = async (world: World, name: string): Promise<Customer> => {
  const { client, user, username, password } = await world.admin.customer(name)
  const funded = expect(
    await client.post("/api/accounts", { account_type: "checking", initial_deposit: "500.00" }),
    201,
    "open account"
  ) as { id: string }
  const second = expect(await client.post("/api/accounts", { account_type: "savings" }), 201, "open account") as {
    id: string
  }
  expect(await client.post("/api/v1/buy", { username: user.username, userid: user.id, price: "9.99" }), 202, "buy")
  const job = expect(
    await client.post("/api/jobs", {
      job_name: "statement",
      kind: "account_statement",
      params: { account_id: funded.id }
    }),
    202,
    "job"
  ) as { id: string }
  const pipeline = expect(
    await client.post("/api/pipelines", {
      pipeline_name: "p",
      steps: [{ kind: "account_statement", params: { account_id: funded.id } }]
    }),
    202,
    "pipeline"
  ) as { id: string }
  // The purchase is stored by the consumer, asynchronously.
  await eventually(
    async () => ((await client.get(`/api/v1/purchases/${user.id}`)).body.length > 0 ? true : undefined),
    20_000,
    "the purchase to be stored"
  )
  return { client, user, username, password, token: client.token!, accounts: [funded, second], job, pipeline }
}
