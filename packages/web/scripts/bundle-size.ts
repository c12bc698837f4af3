/**
 * Size of what the browser downloads for the first screen: every script `index.html` loads or
 * preloads (and, separately, its stylesheets), raw and gzipped (level 9).
 *
 *   npm run build --workspace @troupe/web && node packages/web/scripts/bundle-size.ts
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { webRoot } from "./ensure-built.ts"

export interface InitialRoute {
  readonly js: ReadonlyArray<{ readonly file: string; readonly bytes: number; readonly gzip: number }>
  readonly css: ReadonlyArray<{ readonly file: string; readonly bytes: number; readonly gzip: number }>
  readonly jsGzip: number
  readonly cssGzip: number
}

const attribute = (tag: string, name: string) => new RegExp(`\\b${name}="([^"]+)"`).exec(tag)?.[1]

/** Measures the assets `outDir/index.html` references. */
export const initialRoute = (outDir: string): InitialRoute => {
  const html = readFileSync(join(outDir, "index.html"), "utf8")
  const js = new Set<string>()
  const css = new Set<string>()
  for (const [tag] of html.matchAll(/<(script|link)\b[^>]*>/g)) {
    const src = attribute(tag, "src")
    const href = attribute(tag, "href")
    const rel = attribute(tag, "rel")
    if (tag.startsWith("<script") && src !== undefined) js.add(src)
    else if (rel === "modulepreload" && href !== undefined) js.add(href)
    else if (rel === "stylesheet" && href !== undefined) css.add(href)
  }
  const measure = (file: string) => {
    const content = readFileSync(join(outDir, file.replace(/^\//, "")))
    return { file, bytes: content.length, gzip: gzipSync(content, { level: 9 }).length }
  }
  const jsSizes = [...js].map(measure)
  const cssSizes = [...css].map(measure)
  return {
    js: jsSizes,
    css: cssSizes,
    jsGzip: jsSizes.reduce((sum, f) => sum + f.gzip, 0),
    cssGzip: cssSizes.reduce((sum, f) => sum + f.gzip, 0)
  }
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`

if (import.meta.main) {
  const result = initialRoute(join(webRoot, "dist"))
  for (const f of [...result.js, ...result.css]) console.log(`${f.file}  ${kB(f.bytes)}  gzip ${kB(f.gzip)}`)
  console.log(`initial route: JS ${kB(result.jsGzip)} gzipped, CSS ${kB(result.cssGzip)} gzipped (budget: JS < 150 kB)`)
  if (result.jsGzip >= 150_000) process.exitCode = 1
}
