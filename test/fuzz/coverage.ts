// Code coverage of the library, from V8's block coverage (the inspector's Profiler domain), as
// the feedback of the TypeScript fuzzers: an input is kept when it runs a block no earlier input
// ran. V8 reports, per function run, the blocks that did not run; a block is known from the first
// time it is reported and counts as covered when its function runs without reporting it.
import { Session } from 'node:inspector';

interface Range { startOffset: number; endOffset: number; count: number }
interface FunctionCoverage { functionName: string; ranges: Range[] }
interface ScriptCoverage { url: string; functions: FunctionCoverage[] }

export class Coverage {
  private readonly session = new Session();
  /** Function key -> its known blocks ("start:end"). */
  private readonly blocks = new Map<string, Set<string>>();
  /** Features seen so far: "function" and "function@block". */
  readonly seen = new Set<string>();

  constructor(private readonly include: (url: string) => boolean) {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: false, detailed: true });
  }

  private post(method: string, params?: object): unknown {
    let out: unknown;
    let error: Error | null = null;
    this.session.post(method, params, (err, res) => {
      error = err;
      out = res;
    });
    if (error) throw error;
    return out;
  }

  /** Clears what ran so far (the next take() sees only what runs after this). */
  reset(): void {
    this.post('Profiler.takePreciseCoverage');
  }

  /** The features of what ran since the last take or reset. */
  take(): Set<string> {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    const features = new Set<string>();
    for (const script of result) {
      if (!this.include(script.url)) continue;
      for (const fn of script.functions) {
        const root = fn.ranges[0];
        if (!root || root.count === 0) continue;
        const key = `${script.url}#${root.startOffset}`;
        features.add(key);
        let known = this.blocks.get(key);
        if (!known) this.blocks.set(key, (known = new Set()));
        const missed = new Set<string>();
        for (const r of fn.ranges.slice(1)) if (r.count === 0) missed.add(`${r.startOffset}:${r.endOffset}`);
        for (const m of missed) known.add(m);
        for (const b of known) if (!missed.has(b)) features.add(`${key}@${b}`);
      }
    }
    return features;
  }

  /** Adds the features to `seen`; true when one was new. */
  merge(features: Set<string>): boolean {
    let fresh = false;
    for (const f of features)
      if (!this.seen.has(f)) {
        this.seen.add(f);
        fresh = true;
      }
    return fresh;
  }
}
