// BFCL ground truth (../shared/bfcl/README.md §1.4): each parameter maps to a list of acceptable
// values. firstAnswer writes the answer a model shown the entry's tools (§3.1, §3.2) would give to
// pass BFCL's checker: the first acceptable value of each parameter, read as the checker reads the
// list (§2.4) and written as the model writes it (§2.5).
import { z } from 'zod';

import { stringifyJson } from '../../dist/lib/parse/json.js';
import { bfclToTools, type BfclFunctionDoc, type BfclParameter } from '../../dist/lib/tools/bfcl.js';
import type { BfclLanguage } from '../../dist/lib/tools/bfcl-hints.js';
import type { ToolDefinition } from '../../dist/lib/tools/types.js';
import { checkParam, standardize } from './bfcl-checker.js';
import { isDict, type Py, type PyDict } from './bfcl-python.js';
import { javaSource, jsSource } from './bfcl-source.js';

type Schema = { [key: string]: unknown };
const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validators of the converted tools' property schemas (null: zod cannot read the schema). */
const validators = new WeakMap<object, z.ZodType | null>();

/** Whether the (converted) property schema allows `value`, by the same JSON-Schema reading as parseToolCalls. */
function allowed(schema: unknown, value: Py): boolean {
  if (!isSchema(schema)) return true;
  let v = validators.get(schema);
  if (v === undefined) {
    try {
      v = z.fromJSONSchema(schema as z.core.JSONSchema.JSONSchema);
    } catch {
      v = null;
    }
    validators.set(schema, v);
  }
  return v === null || v.safeParse(JSON.parse(stringifyJson(value))).success;
}

const DICT_TYPES = new Set(['dict', 'HashMap']);
const LIST_TYPES = new Set(['array', 'tuple', 'Array', 'ArrayList']);

/**
 * A dict acceptable value is itself a dict of acceptable-value lists, one level deep (BFCL's
 * dict_checker, §2.4.4); a list of dicts holds such dicts (§2.4.5). Each key gets the first of its
 * values that the key's schema allows (`""`: the key is left out), else its first value.
 */
function nested(value: Py, bfcl: BfclParameter | undefined, schema: unknown): Py {
  if (DICT_TYPES.has(bfcl?.type ?? '') && isDict(value)) {
    const props = isSchema(schema) && isSchema(schema.properties) ? schema.properties : {};
    const out: PyDict = {};
    for (const [k, acc] of Object.entries(value)) {
      const list = Array.isArray(acc) ? acc : [acc];
      const pick = list.find((v) => v === '' || allowed(props[k], v)) ?? list[0];
      if (pick !== '' && pick !== undefined) out[k] = pick;
    }
    return out;
  }
  if (LIST_TYPES.has(bfcl?.type ?? '') && DICT_TYPES.has(bfcl?.items?.type ?? '') && Array.isArray(value)) {
    const items = isSchema(schema) ? schema.items : undefined;
    return value.map((d) => nested(d, { type: 'dict' }, items));
  }
  return value;
}

/** How a model writes `value` for the parameter: itself (Python), or Java/JavaScript source (§3.1, §2.5). */
function written(value: Py, bfcl: BfclParameter | undefined, language: BfclLanguage): Py | undefined {
  if (language === 'python' || bfcl === undefined) return value;
  const type = String(bfcl.type);
  return language === 'java' ? javaSource(value, type, bfcl.items?.type) : jsSource(value, type);
}

type Candidate = { omit: true } | { omit: false; value: Py };

/** The converted tool of each doc (per language), made once. */
const converted = new WeakMap<BfclFunctionDoc, Map<BfclLanguage, ToolDefinition>>();

function toolOf(doc: BfclFunctionDoc, language: BfclLanguage): ToolDefinition {
  let byLanguage = converted.get(doc);
  if (!byLanguage) converted.set(doc, (byLanguage = new Map()));
  let tool = byLanguage.get(language);
  if (!tool) byLanguage.set(language, (tool = bfclToTools([doc], { language })[0]!));
  return tool;
}

/** The members of the schema's enum that BFCL's string check takes for `value` (equal once standardized, §2.4.2). */
function enumSpellings(schema: unknown, value: Py): Py[] {
  if (typeof value !== 'string' || !isSchema(schema) || !Array.isArray(schema.enum)) return [];
  return schema.enum.filter((m): m is string => typeof m === 'string' && m !== value && standardize(m) === standardize(value));
}

const show = (v: Py): string => {
  const s = stringifyJson(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/**
 * The ground-truth answer for one call: BFCL's checker (§2.4, ported in bfcl-checker.ts) accepts
 * it and, wherever the ground truth allows it, the converted tool's schema does too. For each
 * parameter the acceptable values are read in order:
 *
 * 1. `""` means "may be omitted" (§1.4; §2.4 step 4): the parameter is left out — unless it is
 *    required (§2.4 step 2, `missing_required`), then `""` is skipped, and used as the empty
 *    string only when no other value fits (an empty string passes the string check, §2.4.2).
 * 2. Any other value is taken when BFCL's checker accepts it for the parameter (§2.4 step 3) and
 *    the tool's JSON Schema allows it. So a parameter the function does not declare is left out
 *    when `""` allows it (§2.4 step 3.1, `unexpected_param`); a value outside an enum or a `null`
 *    for a string gives way to the next acceptable value, or to omission (the first acceptable
 *    value that the checker accepts and the schema allows). A string outside an enum is first
 *    tried as the enum's own spelling of it, when one standardizes to the same text (`"horror"`
 *    → `"Horror"`): BFCL compares strings standardized (§2.4.2).
 * 3. Java and JavaScript (`language`, §3.1): the model is shown every parameter as a string, so a
 *    value is written as the source string BFCL's converter turns back into it (§2.5, see
 *    bfcl-source.ts): `"5L"` for a long, `"2.5f"` for a float, `"true"`, `"new ArrayList<>(...)"`,
 *    `"[1, 2]"`; a string (a variable name or source text in the ground truth) as it is.
 * 4. Dict values hold acceptable-value lists one level deep (§2.4.4, §2.4.5): each key gets its
 *    first value the key's schema allows, `""` leaving the key out.
 *
 * When no value passes both, the parameter gets the first value BFCL's checker accepts (else its
 * first value; else it is left out), and `issues` (when given) says why: such an answer is outside
 * its schema, and no answer within the schema passes BFCL. A required parameter the ground truth
 * does not list is an issue too (any value is `unexpected_param`, none is `missing_required`).
 */
export function firstAnswer(params: Record<string, Py[]>, doc: BfclFunctionDoc, language: BfclLanguage = 'python', issues?: string[]): PyDict {
  const tool = toolOf(doc, language);
  const props = (tool.parameters.properties ?? {}) as Record<string, unknown>;
  const declared = doc.parameters.properties ?? {};
  const required = new Set(doc.parameters.required ?? []);
  const args: PyDict = {};
  for (const [name, acceptable] of Object.entries(params)) {
    const bfcl = Object.hasOwn(declared, name) ? declared[name] : undefined;
    const candidates: Candidate[] = [];
    for (const v of acceptable) {
      if (v === '') {
        if (!required.has(name)) candidates.push({ omit: true });
        continue;
      }
      const value = written(nested(v, bfcl, props[name]), bfcl, language);
      if (value === undefined) continue;
      candidates.push({ omit: false, value });
      for (const spelling of enumSpellings(props[name], value)) candidates.push({ omit: false, value: spelling });
    }
    if (required.has(name) && acceptable.includes('')) candidates.push({ omit: false, value: '' });
    const passes = (c: Candidate) => c.omit || checkParam(doc, name, c.value, acceptable, language) === null;
    const fits = (c: Candidate) => c.omit || allowed(props[name], c.value);
    let pick = candidates.find((c) => passes(c) && fits(c));
    if (!pick) {
      const accepted = candidates.filter(passes);
      if (accepted.length > 0) {
        issues?.push(`${name}: BFCL accepts only ${accepted.map((c) => (c.omit ? 'omitting it' : show(c.value))).join(' or ')}, outside the schema`);
      } else if (bfcl === undefined) {
        issues?.push(`${name}: not a parameter of the function (unexpected_param), and the ground truth does not let it be left out`);
      } else if (acceptable.length === 0) {
        issues?.push(`${name}: ${required.has(name) ? 'required, and ' : ''}the ground truth lists no acceptable value`);
      } else {
        const why = [...new Set(candidates.map((c) => (c.omit ? 'omitted' : checkParam(doc, name, c.value, acceptable, language))))].join(', ');
        issues?.push(`${name}: BFCL's checker rejects every acceptable value, ${show(acceptable)} (${why})`);
      }
      pick = accepted[0] ?? candidates[0];
    }
    if (pick && !pick.omit) args[name] = pick.value;
  }
  for (const r of required) if (!Object.hasOwn(params, r)) issues?.push(`${r}: required, but the ground truth has no value for it`);
  return args;
}
