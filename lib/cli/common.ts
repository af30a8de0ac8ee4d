// Shared pieces of the `xlam` subcommands.

/** A command-line mistake: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

/** A non-negative integer flag, or the fallback when absent. */
export function intFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a non-negative integer`);
  return Number(value);
}

/** A required string flag. */
export function required(value: string | undefined, name: string, what: string): string {
  if (!value) throw new UsageError(`--${name} ${what} is required`);
  return value;
}

/** One subcommand: its usage line(s) and its runner (argv after the command name). */
export interface Command {
  usage: string;
  run(args: string[]): Promise<void>;
}
