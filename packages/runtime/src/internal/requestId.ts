import { Context } from "effect"

/** The id of the HTTP request being handled (from `x-request-id`, or generated). */
export const RequestId = Context.Reference<string | undefined>("@troupe/runtime/ServiceHost/RequestId", {
  defaultValue: () => undefined
})
