/**
 * The image pins of an environment: `gitops/envs/<env>/images/kustomization.yaml`, a kustomize
 * Component whose `images:` list is the only place tags and digests live. `bump` and `promote`
 * edit it through the `yaml` Document API, so comments and formatting survive.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { isMap, isSeq, parseDocument, type Document, YAMLMap, YAMLSeq } from "yaml"
import { baseImage, findEnvironment, findService, imageName, services } from "./registry.ts"

export class UsageError extends Error {
  override readonly name = "UsageError"
}

export interface ImagePin {
  readonly service: string
  readonly name: string
  readonly tag: string
  readonly digest: string
}

const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/
const digestPattern = /^sha256:[a-f0-9]{64}$/

export const checkTag = (tag: string): string => {
  if (!tagPattern.test(tag)) throw new UsageError(`malformed tag '${tag}': expected an OCI tag like sha-1a2b3c4`)
  if (tag === "latest") throw new UsageError("refusing tag 'latest': pin an immutable sha-<short> tag")
  return tag
}
export const checkDigest = (digest: string): string => {
  if (!digestPattern.test(digest))
    throw new UsageError(`malformed digest '${digest}': expected sha256: followed by 64 lowercase hex digits`)
  return digest
}
export const checkService = (service: string): string => {
  if (!findService(service))
    throw new UsageError(`unknown service '${service}' (known: ${services.map((s) => s.name).join(", ")})`)
  return service
}

export const overlayFile = (root: string, env: string): string => {
  if (!findEnvironment(env)) throw new UsageError(`unknown environment '${env}'`)
  return path.join(root, "gitops", "envs", env, "images", "kustomization.yaml")
}

const load = (file: string): Document => {
  if (!fs.existsSync(file)) throw new UsageError(`${file} does not exist`)
  const document = parseDocument(fs.readFileSync(file, "utf8"))
  if (document.errors.length > 0) throw new UsageError(`${file}: ${document.errors[0]!.message}`)
  return document
}

const imagesSeq = (document: Document, file: string): YAMLSeq => {
  const images = document.get("images", true)
  if (images === undefined) {
    const seq = new YAMLSeq()
    document.set("images", seq)
    return seq
  }
  if (!isSeq(images)) throw new UsageError(`${file}: 'images' is not a list`)
  return images
}

const entryFor = (seq: YAMLSeq, service: string): YAMLMap | undefined =>
  seq.items.find((item): item is YAMLMap => isMap(item) && item.get("name") === baseImage(service))

/** Reads every pin of an overlay (services without an entry are left out). */
export const readPins = (file: string): Array<ImagePin> => {
  const document = load(file)
  const seq = imagesSeq(document, file)
  const pins: Array<ImagePin> = []
  for (const s of services) {
    const entry = entryFor(seq, s.name)
    if (!entry) continue
    pins.push({
      service: s.name,
      name: String(entry.get("newName") ?? ""),
      tag: String(entry.get("newTag") ?? ""),
      digest: String(entry.get("digest") ?? "")
    })
  }
  return pins
}

export interface PinChange {
  readonly service: string
  readonly from: string | undefined
  readonly to: string
}

const show = (tag: unknown, digest: unknown) => `${String(tag)}@${String(digest)}`

/** Sets tag and digest (and the image name) of the given services; writes only if something changed. */
export const writePins = (
  file: string,
  pins: ReadonlyArray<{ service: string; tag: string; digest: string; name?: string }>
): Array<PinChange> => {
  const document = load(file)
  const seq = imagesSeq(document, file)
  const changes: Array<PinChange> = []
  for (const pin of pins) {
    checkService(pin.service)
    checkTag(pin.tag)
    checkDigest(pin.digest)
    const name = pin.name ?? imageName(pin.service)
    let entry = entryFor(seq, pin.service)
    const before = entry ? show(entry.get("newTag"), entry.get("digest")) : undefined
    if (!entry) {
      entry = new YAMLMap()
      entry.set("name", baseImage(pin.service))
      seq.items.push(entry)
    }
    if (entry.get("newName") !== name) entry.set("newName", name)
    if (entry.get("newTag") !== pin.tag) entry.set("newTag", pin.tag)
    if (entry.get("digest") !== pin.digest) entry.set("digest", pin.digest)
    const after = show(pin.tag, pin.digest)
    if (before !== after) changes.push({ service: pin.service, from: before, to: after })
  }
  if (changes.length > 0) fs.writeFileSync(file, document.toString({ lineWidth: 0 }))
  return changes
}

/** Parses `service=tag@sha256:digest`. */
export const parsePinArgument = (arg: string): { service: string; tag: string; digest: string } => {
  const match = /^([^=]+)=([^@]+)@(.+)$/.exec(arg)
  if (!match) throw new UsageError(`expected <service>=<tag>@<digest>, got '${arg}'`)
  return { service: checkService(match[1]!), tag: checkTag(match[2]!), digest: checkDigest(match[3]!) }
}
