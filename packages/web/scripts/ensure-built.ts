/**
 * Builds the web UI into `packages/web/dist` when it is missing or older than its sources, so
 * `npm ci && npm start` serves the UI with no other step. Run before Microbank starts:
 *
 *   node packages/web/scripts/ensure-built.ts && node packages/microbank/src/main-embedded.ts
 *
 * It never stops the start: if the UI cannot be built (no Vite in a production install, a
 * broken source), it says so and the gateway serves the API with a "UI not built" page.
 */
import { spawn } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

/** The web package. */
export const webRoot = fileURLToPath(new URL("..", import.meta.url))

/** What the bundle is made of: a change to any of these makes `dist` stale. */
export const sourcePaths = ["src", "public", "index.html", "vite.config.ts", "package.json", "tsconfig.json"]

const newestIn = (path: string): number => {
  if (!existsSync(path)) return 0
  const info = statSync(path)
  if (!info.isDirectory()) return info.mtimeMs
  let newest = info.mtimeMs // a deleted file changes its directory's mtime
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestIn(join(path, entry)))
  return newest
}

/** Modification time of the newest source file (ms since the epoch). */
export const newestSource = (root: string = webRoot): number =>
  Math.max(0, ...sourcePaths.map((p) => newestIn(join(root, p))))

/** Why `outDir` must be (re)built, or undefined when it is up to date. */
export const staleReason = (root: string = webRoot, outDir: string = join(root, "dist")): string | undefined => {
  const index = join(outDir, "index.html")
  if (!existsSync(index)) return `${relative(process.cwd(), outDir) || outDir} is missing`
  return newestSource(root) > statSync(index).mtimeMs ? "its sources changed since the last build" : undefined
}

/**
 * Runs the production build (`vite build`) into `outDir`, in its own process with
 * NODE_ENV=production: Vite keeps an inherited NODE_ENV (vitest sets "test"), and React's
 * development build would be bundled instead.
 */
export const buildWeb = (root: string = webRoot, outDir: string = join(root, "dist")): Promise<void> => {
  const vite = join(dirname(createRequire(join(root, "package.json")).resolve("vite/package.json")), "bin", "vite.js")
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [vite, "build", "--outDir", outDir, "--emptyOutDir", "--logLevel", "warn"], {
      cwd: root,
      env: { ...process.env, NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (d) => (output += d))
    child.stderr.on("data", (d) => (output += d))
    child.once("error", reject)
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`vite build failed (exit ${code}):\n${output.trim()}`))
    )
  })
}

const main = async () => {
  const reason = staleReason()
  if (reason === undefined) return
  const started = Date.now()
  console.log(`Building the web UI (${reason})…`)
  try {
    await buildWeb()
    console.log(`Built the web UI in ${((Date.now() - started) / 1000).toFixed(1)} s.`)
  } catch (error) {
    const missingVite = (error as { code?: string }).code === "MODULE_NOT_FOUND"
    console.warn(
      missingVite
        ? "Cannot build the web UI: Vite is not installed (run `npm ci` with dev dependencies)."
        : `Cannot build the web UI: ${error instanceof Error ? error.message : String(error)}`
    )
    console.warn(
      existsSync(join(webRoot, "dist", "index.html"))
        ? "Serving the previous build."
        : "The API still runs; the page at / will say the UI is not built."
    )
  }
}

if (import.meta.main) await main()
