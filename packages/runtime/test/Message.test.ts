// Decoding wire messages: anything a hostile or broken producer can put on a queue is poison, never a throw.
import { assert, describe, it } from "@effect/vitest"
import { Exit, Schema } from "effect"
import * as Message from "../src/Message.ts"

const Note = Message.make("test.note", Schema.Struct({ text: Schema.String, data: Schema.Json }), {
  key: (n) => n.text
})
const definitions = new Map<string, Message.Any>([[Note.type, Note]])
const raw = (overrides: Partial<Message.Raw>): Message.Raw => ({
  id: "01900000-0000-7000-8000-000000000001",
  type: "test.note",
  key: "k",
  occurredAt: 0,
  traceparent: undefined,
  body: JSON.stringify({ text: "hi", data: 1 }),
  ...overrides
})
const poison = (r: Message.Raw): string => {
  const exit = Message.decode(definitions, r, 1)
  assert.isTrue(Exit.isFailure(exit), "poison")
  return Exit.isFailure(exit) ? String((exit.cause as any).reasons?.[0]?.error?.message ?? exit.cause) : ""
}

describe("Message.decode", () => {
  it("decodes a good message", () => {
    assert.isTrue(Exit.isSuccess(Message.decode(definitions, raw({}), 1)))
  })

  it("treats a missing or malformed id as poison (the inbox deduplicates by it)", () => {
    assert.include(poison(raw({ id: "" })), "message id")
    assert.include(poison(raw({ id: "not-a-uuid" })), "message id")
    assert.include(
      poison(raw({ id: "01900000-0000-7000-8000-000000000001'; drop table troupe_inbox; --" })),
      "message id"
    )
  })

  it("treats bodies that are not UTF-8 JSON, the wrong shape, or deep enough to overflow the decoder as poison", () => {
    assert.include(poison(raw({ body: new Uint8Array([0x7b, 0xff, 0x7d]) })), "not UTF-8 JSON")
    assert.include(poison(raw({ body: "{" })), "not UTF-8 JSON")
    assert.include(poison(raw({ body: JSON.stringify({ text: 1 }) })), "does not match")
    const deep = `{"text":"x","data":${"[".repeat(200_000)}${"]".repeat(200_000)}}`
    const exit = Message.decode(definitions, raw({ body: deep }), 1)
    assert.isTrue(Exit.isFailure(exit) || Exit.isSuccess(exit), "returns, never throws")
  })
})
