// A growable ring buffer: O(1) push, shift and length, for broker queues that hold 100k+ items.
export class Deque<A> {
  private items: Array<A | undefined> = new Array(16)
  private head = 0
  length = 0

  push(item: A): void {
    if (this.length === this.items.length) this.grow()
    this.items[(this.head + this.length) % this.items.length] = item
    this.length++
  }

  shift(): A | undefined {
    if (this.length === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) % this.items.length
    this.length--
    return item
  }

  /** Puts `items` in front, keeping their order. */
  prepend(items: ReadonlyArray<A>): void {
    for (let i = items.length - 1; i >= 0; i--) {
      if (this.length === this.items.length) this.grow()
      this.head = (this.head - 1 + this.items.length) % this.items.length
      this.items[this.head] = items[i]
      this.length++
    }
  }

  private grow(): void {
    const next = new Array<A | undefined>(this.items.length * 2)
    for (let i = 0; i < this.length; i++) next[i] = this.items[(this.head + i) % this.items.length]
    this.items = next
    this.head = 0
  }
}
