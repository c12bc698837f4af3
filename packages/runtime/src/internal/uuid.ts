// UUIDv7 (RFC 9562): 48-bit unix ms timestamp, a 12-bit counter (rand_a, "method 1"), then 62
// random bits. Ids made in this process sort in creation order, also within one millisecond.
// Random bytes come from a pooled buffer refilled 4 KiB at a time: one getRandomValues call
// per 512 ids instead of one per id (it is a syscall, and this runs per HTTP request).
const hex: Array<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))
const pool = new Uint8Array(4096)
let offset = pool.length
let lastMs = -1
let counter = 0

const random8 = (): number => {
  if (offset + 8 > pool.length) {
    crypto.getRandomValues(pool)
    offset = 0
  }
  const at = offset
  offset += 8
  return at
}

export const uuidv7 = (now: number = Date.now()): string => {
  const r = random8()
  let ms = now
  if (ms <= lastMs) {
    // Same (or an earlier) millisecond: count up; past 4095 borrow the next millisecond.
    counter++
    ms = lastMs
    if (counter > 0xfff) {
      ms = lastMs + 1
      counter = 0
    }
  } else {
    // A new millisecond: start the counter low and random, leaving room to count up.
    counter = ((pool[r]! << 8) | pool[r + 1]!) & 0x3ff
  }
  lastMs = ms
  let ts = ms
  const time = new Array<string>(6)
  for (let i = 5; i >= 0; i--) {
    time[i] = hex[ts % 256]!
    ts = Math.floor(ts / 256)
  }
  return (
    time[0]! +
    time[1]! +
    time[2]! +
    time[3]! +
    "-" +
    time[4]! +
    time[5]! +
    "-" +
    hex[0x70 | (counter >> 8)]! +
    hex[counter & 0xff]! +
    "-" +
    hex[0x80 | (pool[r + 2]! & 0x3f)]! +
    hex[pool[r + 3]!]! +
    "-" +
    hex[pool[r + 4]!]! +
    hex[pool[r + 5]!]! +
    hex[pool[r + 6]!]! +
    hex[pool[r + 7]!]! +
    hex[pool[(r + 8) % pool.length]!]! +
    hex[pool[(r + 9) % pool.length]!]!
  )
}
