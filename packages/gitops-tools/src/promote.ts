/**
 * `promote`: copies tag and digest of services from one environment's overlay to the next one
 * (dev → prod → prod-dr), keeping the target's comments and formatting.
 */
import { overlayFile, readPins, UsageError, writePins, type PinChange } from "./images.ts"
import { findEnvironment, services } from "./registry.ts"

export interface PromoteOptions {
  readonly root: string
  readonly from: string
  readonly to: string
  /** Services to promote; all services pinned in the source when empty. */
  readonly services: ReadonlyArray<string>
  /** Allow a target other than the source's `promotesTo` (e.g. a hotfix straight to prod-dr). */
  readonly force?: boolean
}

export const promote = (options: PromoteOptions): Array<PinChange> => {
  const source = findEnvironment(options.from)
  if (!source) throw new UsageError(`unknown environment '${options.from}'`)
  if (!findEnvironment(options.to)) throw new UsageError(`unknown environment '${options.to}'`)
  if (options.from === options.to) throw new UsageError("source and target environment are the same")
  if (source.promotesTo !== options.to && !options.force)
    throw new UsageError(
      `${options.from} promotes to ${source.promotesTo ?? "nothing"}, not ${options.to} (use --force to override)`
    )
  const pins = readPins(overlayFile(options.root, options.from))
  const wanted = options.services.length > 0 ? options.services : pins.map((p) => p.service)
  const selected = wanted.map((name) => {
    if (!services.some((s) => s.name === name)) throw new UsageError(`unknown service '${name}'`)
    const pin = pins.find((p) => p.service === name)
    if (!pin) throw new UsageError(`${options.from} has no image pinned for ${name}`)
    return pin
  })
  return writePins(overlayFile(options.root, options.to), selected)
}
