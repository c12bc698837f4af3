/**
 * The web UI, served from the built single-page app (`WEB_ROOT`, default `packages/web/dist`):
 * hashed assets under `/assets/` are cached for a year, everything else (`index.html`) is
 * revalidated every time, and unknown paths outside `/api` fall back to `index.html` so the app's
 * own routes work on reload. Unknown `/api/...` paths stay 404 problems.
 */
import { Config, Effect, Layer } from "effect"
import { FileSystem } from "effect"
import { HttpPlatform, HttpRouter, HttpServerResponse } from "effect/http"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { ServiceHost } from "@troupe/runtime"

const defaultRoot = fileURLToPath(new URL("../../web/dist", import.meta.url))

const notBuilt = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Microbank</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto;line-height:1.5">
<h1>Microbank</h1><p>The API is running (see <a href="/docs">/docs</a>), but the web UI has not been built.</p>
<p>Build it with <code>npm run build --workspace @troupe/web</code> and reload.</p></body></html>`

export const routes = HttpRouter.use((router) =>
  Effect.gen(function* () {
    const root = Path.resolve(yield* Config.String("WEB_ROOT").pipe(Config.withDefault(defaultRoot)))
    const fs = yield* FileSystem.FileSystem
    const isFile = (path: string) =>
      fs.stat(path).pipe(
        Effect.map((info) => info.type === "File"),
        Effect.orElseSucceed(() => false)
      )
    const index = Path.join(root, "index.html")
    const platform = yield* HttpPlatform.HttpPlatform
    const serve = (path: string, cacheControl: string) =>
      Effect.orDie(platform.fileResponse(path, { headers: { "cache-control": cacheControl } }))

    yield* router.add("GET", "/*", (request) =>
      Effect.gen(function* () {
        const pathname = decodeURIComponent(new URL(request.url, "http://x").pathname)
        if (pathname.startsWith("/api/") || pathname === "/api") {
          return ServiceHost.problem(404, "Not Found", `no route for GET ${pathname}`)
        }
        const target = Path.resolve(root, `.${pathname}`)
        // Never serve outside the web root (../ in the path).
        if (target.startsWith(root + Path.sep) && (yield* isFile(target))) {
          return yield* serve(
            target,
            pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache"
          )
        }
        // A missing hashed asset is a 404 (a stale page must not get HTML for its script).
        if (pathname.startsWith("/assets/")) return ServiceHost.problem(404, "Not Found", `no asset ${pathname}`)
        if (yield* isFile(index)) return yield* serve(index, "no-cache")
        return HttpServerResponse.html(notBuilt)
      })
    )
  })
).pipe(Layer.orDie)
