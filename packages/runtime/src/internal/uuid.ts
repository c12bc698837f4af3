// UUIDv7 (RFC 9562): 48-bit unix ms timestamp, a 12-bit counter (rand_a, "method 1"), then 62
// random bits. Ids made in this process sort in creation order, also within one millisecond.
// Random bytes come from a pooled buffer refilled 4 KiB at a time: one getRandomValues call
// per 400 ids instead of one per id (it is a syscall, and this runs per HTTP request). The
// timestamp's hex is made once per millisecond.
const hex: Array<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"))
const pool = new Uint8Array(4096)
/** Random bytes one id takes: 2 to start a millisecond's counter, 8 for rand_b. */
const perId = 10
let offset = pool.length
let lastMs = -1
let counter = 0
let timeHex = ""
let timeHexMs = -1

const take = (): number => {
  if (offset + perId > pool.length) {
    crypto.getRandomValues(pool)
    offset = 0
  }
  const at = offset
  offset += perId
  return at
}

// "tttttttt-tttt-" for a millisecond timestamp.
const formatTime = (ms: number): string => {
  const time = new Array<string>(6)
  for (let i = 5; i >= 0; i--) {
    time[i] = hex[ms % 256]!
    ms = Math.floor(ms / 256)
  }
  return `${time[0]}${time[1]}${time[2]}${time[3]}-${time[4]}${time[5]}-`
}

export const uuidv7 = (now: number = Date.now()): string => {
  const r = take()
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
  if (ms !== timeHexMs) {
    timeHex = formatTime(ms)
    timeHexMs = ms
  }
  return (
    timeHex +
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
    hex[pool[r + 8]!]! +
    hex[pool[r + 9]!]!
  )
}
