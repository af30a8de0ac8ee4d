// BFCL ground truth (../shared/bfcl/README.md §1): each parameter maps to a list of acceptable
// values; the tests write the first acceptable one.
import { JsonNumber, type LosslessJsonValue } from '../../dist/lib/parse/json.js';
import type { BfclFunctionDoc, BfclParameter } from '../../dist/lib/tools/bfcl.js';

type Lossless = LosslessJsonValue;
type Dict = { [key: string]: Lossless };

const isDict = (v: Lossless | undefined): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);

/**
 * A dict parameter's acceptable values are dicts whose values are again lists of acceptable
 * values (one level: BFCL's dict_checker); a list of dicts holds such dicts.
 */
function nested(value: Lossless, schema: BfclParameter | undefined): Lossless {
  if (schema?.type === 'dict' && isDict(value)) {
    const out: Dict = {};
    for (const [k, acc] of Object.entries(value)) {
      const first = Array.isArray(acc) ? acc[0] : acc;
      if (first !== '' && first !== undefined) out[k] = first;
    }
    return out;
  }
  if ((schema?.type === 'array' || schema?.type === 'tuple') && schema.items?.type === 'dict' && Array.isArray(value)) {
    return value.map((d) => nested(d, { type: 'dict' }));
  }
  return value;
}

/** The first acceptable value of each parameter; `""` (or no acceptable value at all) omits it. */
export function firstAnswer(params: Record<string, Lossless[]>, doc: BfclFunctionDoc): Dict {
  const args: Dict = {};
  for (const [name, acceptable] of Object.entries(params)) {
    // Two live_simple entries list no acceptable value (`[]`) for some parameters: omitted.
    if (acceptable.length === 0 || acceptable[0] === '') continue;
    args[name] = nested(acceptable[0]!, doc.parameters.properties?.[name]);
  }
  return args;
}
