/**
 * Seed 000's save/view flow: `GET /save?data=Hello` queues a message (through the same
 * broker and worker as every record: type `message`, source `save`), `GET /view` shows the stored
 * messages. `template=space` switches the design. Every value is HTML-escaped.
 */
import { Effect } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { Ingest } from "./Ingest.ts"

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!)

type Template = "classic" | "space"

const styles: Record<Template, string> = {
  classic: `body{font-family:system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#1f2933;line-height:1.5}
h1{font-size:1.6rem}li{padding:.4rem 0;border-bottom:1px solid #e4e7eb}time{color:#616e7c;font-size:.85rem;margin-left:.5rem}
a{color:#0b69a3}`,
  space: `body{font-family:ui-monospace,monospace;background:radial-gradient(circle at 20% 20%,#1b2a4a,#05060f 70%);color:#e0e6ff;
min-height:100vh;margin:0;padding:3rem 1rem}main{max-width:44rem;margin:auto}h1{color:#9ab6ff;letter-spacing:.2em;text-transform:uppercase}
li{padding:.5rem;margin:.4rem 0;border:1px solid #2e3f6e;border-radius:.5rem;background:#0b1226aa}time{color:#7d8bb5;font-size:.8rem;margin-left:.5rem}
a{color:#ffd479}`
}

const page = (template: Template, title: string, body: string, status = 200) =>
  HttpServerResponse.text(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(title)}</title><style>${styles[template]}</style></head><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`,
    { status, contentType: "text/html; charset=utf-8" }
  )

const templateOf = (url: URL): Template => (url.searchParams.get("template") === "space" ? "space" : "classic")
const link = (template: Template, path: string) => (template === "space" ? `${path}?template=space` : path)

export const routes = HttpRouter.use((router) =>
  Effect.gen(function* () {
    const ingest = yield* Ingest
    yield* router.add("GET", "/save", (request) =>
      Effect.gen(function* () {
        const url = new URL(request.url, "http://localhost")
        const template = templateOf(url)
        const data = url.searchParams.get("data")
        if (data === null || data.trim() === "" || data.length > 1000) {
          return page(
            template,
            "Nothing saved",
            `<p>Give a message of 1 to 1000 characters: <code>/save?data=Hello</code></p>`,
            400
          )
        }
        yield* ingest.accept([{ type: "message", source: "save", data: { text: data } }])
        return page(
          template,
          "Saved",
          `<p>Queued “${escape(data)}”. It appears on the <a href="${link(template, "/view")}">view page</a> once the worker stored it.</p>`,
          202
        )
      })
    )
    yield* router.add("GET", "/view", (request) =>
      Effect.gen(function* () {
        const template = templateOf(new URL(request.url, "http://localhost"))
        const messages = yield* ingest.recent(200, "message")
        const items = messages
          .map((m) => {
            const text =
              typeof m.data === "object" && m.data !== null && "text" in m.data
                ? String((m.data as { text: unknown }).text)
                : JSON.stringify(m.data)
            return `<li>${escape(text)}<time datetime="${escape(m.stored_at)}">${escape(m.stored_at.replace("T", " ").slice(0, 19))} UTC</time></li>`
          })
          .join("")
        return page(
          template,
          "Messages",
          messages.length === 0
            ? `<p>No messages yet. Try <a href="${link(template, "/save")}&data=Hello">/save?data=Hello</a>.</p>`.replace(
                "/save&",
                "/save?"
              )
            : `<ul>${items}</ul>`
        )
      })
    )
  })
)
