#!/usr/bin/env node
/**
 * gitops-tools: `bump`, `promote`, `validate`, `generate` and `changed` for gitops/ and argocd/.
 * Run with Node 24 from the repository root: `node packages/gitops-tools/src/cli.ts <command> ...`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { changedFiles, changedServices } from "./changed.ts"
import { generatedDrift, writeGenerated } from "./generate.ts"
import { overlayFile, parsePinArgument, UsageError, writePins, type PinChange } from "./images.ts"
import { promote } from "./promote.ts"
import { environments, repository, services } from "./registry.ts"
import { validate } from "./validate/index.ts"

const usage = `usage: node packages/gitops-tools/src/cli.ts <command> [options]

  bump --env <env> <service>=<tag>@<digest>...   pin images in gitops/envs/<env>/images
  promote --from <env> --to <env> [service...]   copy pins to the next environment
  validate [--skip-actionlint]                   render, schema, policy, promtool, actionlint
  generate [--check]                             write (or check) gitops/base and per-service overlays
  changed --base <rev> --head <rev>              JSON list of services whose image inputs changed
  registry [field]                               the registry as JSON (or one field of repository)

  --root <dir>   repository root (default: the enclosing git repository of the current directory)`

const findRoot = (start: string): string => {
  let dir = path.resolve(start)
  while (!fs.existsSync(path.join(dir, ".git"))) {
    const parent = path.dirname(dir)
    if (parent === dir) return path.resolve(start)
    dir = parent
  }
  return dir
}

const printChanges = (env: string, changes: ReadonlyArray<PinChange>) => {
  if (changes.length === 0) console.log(`${env}: already up to date`)
  for (const c of changes) console.log(`${env}: ${c.service} ${c.from ?? "(none)"} -> ${c.to}`)
}

const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const [command, ...rest] = argv
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      root: { type: "string" },
      env: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      force: { type: "boolean" },
      base: { type: "string" },
      head: { type: "string" },
      check: { type: "boolean" },
      "skip-actionlint": { type: "boolean" }
    }
  })
  const root = values.root ? path.resolve(values.root) : findRoot(process.cwd())
  switch (command) {
    case "bump": {
      if (!values.env) throw new UsageError("bump needs --env <environment>")
      if (positionals.length === 0) throw new UsageError("bump needs at least one <service>=<tag>@<digest>")
      const pins = positionals.map(parsePinArgument)
      printChanges(values.env, writePins(overlayFile(root, values.env), pins))
      return 0
    }
    case "promote": {
      if (!values.from || !values.to) throw new UsageError("promote needs --from <env> --to <env>")
      const changes = promote({
        root,
        from: values.from,
        to: values.to,
        services: positionals,
        force: values.force ?? false
      })
      printChanges(values.to, changes)
      return 0
    }
    case "generate": {
      if (values.check) {
        const drift = generatedDrift(root)
        for (const file of drift) console.error(`out of date: ${file}`)
        return drift.length === 0 ? 0 : 1
      }
      const changed = writeGenerated(root)
      for (const file of changed) console.log(`wrote ${file}`)
      if (changed.length === 0) console.log("generated files are up to date")
      return 0
    }
    case "changed": {
      const zero = /^0+$/
      const files =
        values.base && values.head && !zero.test(values.base) ? changedFiles(root, values.base, values.head) : undefined
      console.log(JSON.stringify(changedServices(root, files)))
      return 0
    }
    case "registry": {
      const field = positionals[0]
      if (field === undefined) console.log(JSON.stringify({ repository, services, environments }, null, 2))
      else if (field in repository) console.log(repository[field as keyof typeof repository])
      else throw new UsageError(`unknown field '${field}' (known: ${Object.keys(repository).join(", ")})`)
      return 0
    }
    case "validate": {
      const report = await validate({ root, actionlint: !values["skip-actionlint"] })
      for (const line of report.notes) console.log(`note: ${line}`)
      for (const v of report.violations) console.error(`violation: ${v}`)
      console.log(
        `${report.checked} objects in ${report.renders} renders checked; ${report.violations.length} violation(s)`
      )
      return report.violations.length === 0 ? 0 : 1
    }
    default:
      console.error(usage)
      return command === undefined || command === "help" || command === "--help" ? 0 : 2
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof Error && error.name === "TypeError" && "code" in error)) {
      console.error(`error: ${error.message}`)
      process.exit(2)
    }
    console.error(error)
    process.exit(1)
  }
)
