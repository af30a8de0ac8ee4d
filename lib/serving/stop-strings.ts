/**
 * Stop strings over streamed text: passes text through as soon as it cannot be the start of a
 * stop string, and stops at the first occurrence (the stop text itself is not returned).
 */
export class StopStringMatcher {
  #stops: string[];
  #pending = '';
  #stopped = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops.filter((s) => s.length > 0);
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Feeds a text delta; returns the text that is now certain (empty once stopped). */
  push(delta: string): string {
    if (this.#stopped) return '';
    this.#pending += delta;
    let first = -1;
    for (const s of this.#stops) {
      const at = this.#pending.indexOf(s);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    if (first >= 0) {
      this.#stopped = true;
      const out = this.#pending.slice(0, first);
      this.#pending = '';
      return out;
    }
    // Hold back the longest suffix that is a proper prefix of some stop string.
    let hold = 0;
    for (const s of this.#stops)
      for (let k = Math.min(s.length - 1, this.#pending.length); k > hold; k--)
        if (this.#pending.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
    const out = this.#pending.slice(0, this.#pending.length - hold);
    this.#pending = this.#pending.slice(this.#pending.length - hold);
    return out;
  }

  /** The end of the text: whatever was held back. */
  flush(): string {
    const out = this.#stopped ? '' : this.#pending;
    this.#pending = '';
    return out;
  }
}
