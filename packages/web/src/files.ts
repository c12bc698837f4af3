/** Saving what the API answered (a job's CSV) as a file, and naming it. */

/** Hands a blob to the browser as a download named `filename`. */
export const saveFile = (blob: Blob, filename: string): void => {
  const url = URL.createObjectURL(blob)
  const link = document.createElement("a")
  link.href = url
  link.download = filename
  link.rel = "noopener"
  link.style.display = "none"
  document.body.append(link)
  link.click()
  link.remove()
  // The download has started from the object URL; it is released once the browser has read it.
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000)
}

/** "November statement (Checking ••••dff0)" → "november-statement-checking-dff0.csv" */
export const fileName = (name: string, extension: string, fallback = "download"): string => {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80)
    .replace(/-+$/, "")
  return `${slug === "" ? fallback : slug}.${extension}`
}
