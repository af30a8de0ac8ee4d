// What a TypeScript fuzz target provides to test/fuzz/fuzzer.ts.
export interface FuzzTarget {
  /** Longest input the mutator makes. */
  maxLen: number;
  /** Inputs are JSON: the mutator also edits them as JSON trees. */
  json: boolean;
  /** Words the mutator inserts (keys, keywords, tokens). */
  dict: string[];
  /** Seed inputs from the repository's fixtures (for -merge=1 -seed_inputs=1). */
  seeds(): Buffer[];
  /** Runs one input; may throw only errors that expected() accepts. */
  run(data: Buffer): void | Promise<void>;
  /** The typed errors that are a correct answer to bad input. */
  expected(err: unknown): boolean;
}
