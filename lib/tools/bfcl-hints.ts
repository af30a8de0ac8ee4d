/**
 * BFCL's language hints: what `_func_doc_language_specific_pre_processing`
 * (`bfcl_eval/utils.py`) does to the function docs before any model sees them (§3.1 of the BFCL
 * notes, `shared/bfcl/README.md`). BFCL's checker later reads the original docs, so for Java
 * and JavaScript the model writes every argument as a string (Java or JavaScript source) that the
 * checker converts back with the original types.
 */
import { pyJsonDumps, type PyData } from '../prompt/jinja/python.js';

/** The language of a BFCL test category: `java`, `javascript`, or `python` for all others. */
export type BfclLanguage = 'python' | 'java' | 'javascript';

/** The {@link BfclLanguage} values. */
export const BFCL_LANGUAGES: readonly BfclLanguage[] = ['python', 'java', 'javascript'];

/**
 * The language BFCL gives a test category or entry id (`is_java` / `is_js` in
 * `bfcl_eval/utils.py`): `javascript` when it contains "javascript", else `java` when it
 * contains "java", else `python` (every other category, the live ones included).
 *
 * @example
 * ```ts
 * bfclLanguage('simple_java_26');          // 'java'
 * bfclLanguage('live_multiple_87-38-4');   // 'python'
 * ```
 */
export function bfclLanguage(categoryOrId: string): BfclLanguage {
  if (categoryOrId.includes('javascript')) return 'javascript';
  if (categoryOrId.includes('java')) return 'java';
  return 'python';
}

const FUNCTION_HINT: Readonly<Record<BfclLanguage, string>> = {
  java: ' Note that the provided function is in Java 8 SDK syntax.',
  javascript: ' Note that the provided function is in JavaScript syntax.',
  python: ' Note that the provided function is in Python 3 syntax.',
};
const LANGUAGE_NAME = { java: 'Java', javascript: 'JavaScript' } as const;

type Doc = { [key: string]: unknown };
const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Applies BFCL's language hints to function docs, in place (callers pass a copy):
 * - every function's description gets " Note that the provided function is in {Python 3 |
 *   Java 8 SDK | JavaScript} syntax.";
 * - Java and JavaScript: every parameter's type becomes `string`, its description saying the
 *   original one (" This is Java HashMap type parameter in string representation.", or for `any`
 *   " This parameter can be of any type of Java object in string representation."); a Java
 *   `ArrayList` / `Array` or JavaScript `array` loses its `items`, named in the description
 *   (" The list elements are of type String; they are not in string representation."); a
 *   JavaScript `dict` with `properties` loses them, written into the description as Python's
 *   `json.dumps` writes them.
 *
 * Where BFCL's Python raises `KeyError` (no description, no `type`, no `items.type`), the
 * missing text is taken as empty. Numbers in the dumped `properties` are written as JavaScript
 * holds them (an integral float such as `1.0` prints as `1`; no BFCL JavaScript entry has one).
 */
export function applyLanguageHints(docs: Doc[], language: BfclLanguage): void {
  for (const doc of docs) {
    doc.description = text(doc.description) + FUNCTION_HINT[language];
    if (language === 'python') continue;
    const name = LANGUAGE_NAME[language];
    const properties = isDoc(doc.parameters) && isDoc(doc.parameters.properties) ? doc.parameters.properties : {};
    for (const value of Object.values(properties)) {
      if (!isDoc(value)) continue;
      const type = value.type;
      let description = text(value.description);
      description += type === 'any' ? ` This parameter can be of any type of ${name} object in string representation.` : ` This is ${name} ${text(type)} type parameter in string representation.`;
      const isList = language === 'java' ? type === 'ArrayList' || type === 'Array' : type === 'array';
      if (isList) {
        description += ` The list elements are of type ${text(isDoc(value.items) ? value.items.type : undefined)}; they are not in string representation.`;
        delete value.items;
      }
      if (language === 'javascript' && type === 'dict' && 'properties' in value) {
        description += ` The dictionary entries have the following schema; they are not in string representation. ${pyJsonDumps(value.properties as PyData)}`;
        delete value.properties;
      }
      value.description = description;
      value.type = 'string';
    }
  }
}
