/**
 * Argument validation with zod: the first issue becomes an XlamInvalidArgumentError
 * (`INVALID_ARGUMENT`) naming its path, e.g. `request.messages[0].content: …`, also as its `field`.
 */
import type { z } from 'zod';

import { XlamInvalidArgumentError } from './errors.js';
import { joinPath } from './tools/json-check.js';

export function parseArgument<T extends z.ZodType>(schema: T, value: unknown, where: string): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = (issue?.path ?? []).reduce<string>((p, k) => joinPath(p, typeof k === 'number' ? k : String(k)), where);
  throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `${path}: ${issue?.message ?? 'invalid'}`, { field: path });
}
