// The production build, and the check `npm start` runs before starting Microbank.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs"
import { readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { initialRoute } from "../scripts/bundle-size.ts"
import { staleReason } from "../scripts/ensure-built.ts"
import { buildInto } from "./system.ts"

describe("ensure-built", () => {
  it("builds when dist is missing or older than any source, and only then", () => {
    const root = mkdtempSync(join(tmpdir(), "microbank-web-stale-"))
    try {
      mkdirSync(join(root, "src", "screens"), { recursive: true })
      writeFileSync(join(root, "src", "screens", "A.tsx"), "a")
      writeFileSync(join(root, "index.html"), "<html>")
      const past = new Date(Date.now() - 60_000)
      for (const p of ["src/screens/A.tsx", "src/screens", "src", "index.html"]) utimesSync(join(root, p), past, past)
      assert.match(staleReason(root) ?? "", /missing$/)

      mkdirSync(join(root, "dist"))
      writeFileSync(join(root, "dist", "index.html"), "built")
      assert.isUndefined(staleReason(root))

      const future = new Date(Date.now() + 60_000)
      utimesSync(join(root, "src", "screens", "A.tsx"), future, future)
      assert.strictEqual(staleReason(root), "its sources changed since the last build")
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })
})

describe("production build", () => {
  let web: Awaited<ReturnType<typeof buildInto>>
  beforeAll(async () => {
    web = await buildInto()
  })
  afterAll(() => web?.remove())

  it("emits index.html loading content-hashed assets from /assets/", () => {
    const html = readFileSync(join(web.dist, "index.html"), "utf8")
    const route = initialRoute(web.dist)
    assert.isAbove(route.js.length, 0)
    for (const f of [...route.js, ...route.css]) assert.match(f.file, /^\/assets\/[\w-]+-[\w-]{8}\.(js|css)$/)
    assert.notInclude(html, "/src/main.tsx", "the built page loads the bundle, not the sources")
  })

  it("calls the API by relative /api URLs", () => {
    const js = route()
      .js.map((f) => readFileSync(join(web.dist, f.file), "utf8"))
      .join("\n")
    assert.include(js, "/api/accounts")
    assert.notMatch(js, /https?:\/\/(localhost|127\.0\.0\.1)/)
  })

  it("bundles React's production build", () => {
    const js = route()
      .js.map((f) => readFileSync(join(web.dist, f.file), "utf8"))
      .join("\n")
    assert.notInclude(js, "Each child in a list should have a unique", "a development-only warning of React")
  })

  it("keeps the initial route under 150 kB of gzipped JavaScript", () => {
    assert.isBelow(route().jsGzip, 150_000)
  })

  it("leaves the purchases, ingest and jobs screens out of the first download", () => {
    const read = (file: string) => readFileSync(join(web.dist, file), "utf8")
    const initial = route()
      .js.map((f) => read(f.file))
      .join("\n")
    const chunks = readdirSync(join(web.dist, "assets")).filter((f) => f.endsWith(".js"))
    const everything = chunks.map((f) => read(join("assets", f))).join("\n")
    assert.isAbove(chunks.length, route().js.length, "chunks fetched later")
    for (const text of ["Records a purchase at the price you enter", "Send a record", "Start pipeline"]) {
      assert.notInclude(initial, text)
      assert.include(everything, text)
    }
  })

  const route = () => initialRoute(web.dist)
})
