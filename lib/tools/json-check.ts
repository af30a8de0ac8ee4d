/**
 * Finds the first value inside a would-be JSON document that JSON cannot represent, with its path.
 * Used to validate tool schemas given by callers (`undefined`, functions, `NaN`, class instances,
 * cycles, ... would silently change or vanish on serialisation).
 */

/** Where a non-JSON value sits and what it is. `path` uses `.key` and `[index]` steps. */
export interface NonJsonValue {
  path: string;
  reason: string;
}

/** Appends a key to a path the way a reader would write it (`a.b`, `a["odd key"]`, `a[0]`). */
export function joinPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Returns the first non-JSON value under `value` (depth first), or undefined when it is all JSON. */
export function findNonJson(value: unknown, path: string, seen: Set<object> = new Set()): NonJsonValue | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { path, reason: `${value} is not a JSON number` };
    case 'undefined':
      return { path, reason: 'undefined is not a JSON value' };
    case 'bigint':
      return { path, reason: 'a bigint is not a JSON value' };
    case 'function':
      return { path, reason: 'a function is not a JSON value' };
    case 'symbol':
      return { path, reason: 'a symbol is not a JSON value' };
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (seen.has(obj)) return { path, reason: 'a circular reference is not JSON' };
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        if (!(i in obj)) return { path: joinPath(path, i), reason: 'a hole in a sparse array is not a JSON value' };
        const bad = findNonJson(obj[i], joinPath(path, i), seen);
        if (bad) return bad;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (proto as { constructor?: { name?: string } }).constructor?.name ?? 'object';
      return { path, reason: `a ${kind} instance is not a plain JSON object` };
    }
    if (Object.getOwnPropertySymbols(obj).length > 0) return { path, reason: 'symbol keys are not JSON' };
    for (const key of Object.keys(obj)) {
      const bad = findNonJson((obj as Record<string, unknown>)[key], joinPath(path, key), seen);
      if (bad) return bad;
    }
    return undefined;
  } finally {
    seen.delete(obj);
  }
}
