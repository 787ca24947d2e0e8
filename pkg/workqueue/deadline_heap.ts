/** A binary min-heap of (key, deadline), ties broken by insertion order. */

export interface Deadline {
  readonly key: string;
  /** Clock time at which the key is due. */
  readonly at: number;
}

interface Entry extends Deadline {
  readonly seq: number;
}

export class DeadlineHeap {
  readonly #entries: Entry[] = [];
  #seq = 0;

  push(key: string, at: number): void {
    const entries = this.#entries;
    entries.push({ key, at, seq: this.#seq++ });
    let i = entries.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  peek(): Deadline | undefined {
    return this.#entries[0];
  }

  pop(): Deadline | undefined {
    const entries = this.#entries;
    const top = entries[0];
    const last = entries.pop();
    if (top === undefined || last === undefined || entries.length === 0) return top;
    entries[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < entries.length && this.#less(left, smallest)) smallest = left;
      if (right < entries.length && this.#less(right, smallest)) smallest = right;
      if (smallest === i) break;
      this.#swap(i, smallest);
      i = smallest;
    }
    return top;
  }

  clear(): void {
    this.#entries.length = 0;
  }

  #less(i: number, j: number): boolean {
    const a = this.#entries[i];
    const b = this.#entries[j];
    if (a === undefined || b === undefined) return false;
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #swap(i: number, j: number): void {
    const entries = this.#entries;
    const a = entries[i];
    const b = entries[j];
    if (a === undefined || b === undefined) return;
    entries[i] = b;
    entries[j] = a;
  }
}
