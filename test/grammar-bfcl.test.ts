// BFCL (../shared/bfcl/data): for every entry with a ground truth, the xLAM-2 tool-call grammar of
// the entry's tools (toolChoice 'required') accepts the ground-truth answer — the first
// acceptable value of each parameter — written as an xLAM-2 array, byte by byte. The grammar
// goes through its GBNF text first (print, parse), as the native matcher will get it.
// Arguments are written in the order of the tool's schema (the grammar fixes that order; the
// answers are sets of parameters). Answers that break their own schema are listed, not
// accepted: each must also be flagged by the JSON-Schema validator of parseToolCalls.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

import { compileGrammar, parseGbnf, printGbnf, toolCallGrammar } from '../dist/lib/grammar/index.js';
import { JsonNumber, parseJson, stringifyJson, type LosslessJsonValue } from '../dist/lib/parse/json.js';
import { parseToolCalls } from '../dist/lib/parse/parse.js';
import { bfclToTools, type BfclFunctionDoc } from '../dist/lib/tools/bfcl.js';
import type { ToolDefinition } from '../dist/lib/tools/types.js';
import { firstAnswer } from './helpers/bfcl-answers.js';
import { repoRoot } from './helpers/fixtures.js';
import { run } from './helpers/grammar.js';

const dataDir = join(repoRoot, '..', 'shared', 'bfcl', 'data');
type Lossless = LosslessJsonValue;
type Dict = { [key: string]: Lossless };
interface Entry {
  id: string;
  function: BfclFunctionDoc[];
}
interface Answer {
  id: string;
  ground_truth: Array<Record<string, Record<string, Lossless[]>>>;
}

/**
 * Ground-truth answers outside their own schema (checked below to be flagged by the validator
 * too), with why. The grammar rejects them; every other answer must be accepted.
 */
const OUTSIDE_SCHEMA: Record<string, string> = {
  "live_multiple_87-38-4": "value not in the enum",
  "live_multiple_144-56-0": "required parameter missing",
  "live_multiple_152-58-6": "value not in the enum",
  "live_multiple_189-83-0": "undeclared parameter",
  "live_multiple_507-149-4": "required parameter missing",
  "live_multiple_552-153-1": "value not in the enum",
  "live_multiple_595-158-1": "value not in the enum",
  "live_multiple_596-158-2": "value not in the enum",
  "live_multiple_731-167-2": "value not in the enum",
  "live_multiple_733-167-4": "value not in the enum",
  "live_multiple_735-167-6": "value not in the enum",
  "live_multiple_750-169-5": "value not in the enum",
  "live_multiple_756-169-11": "value not in the enum",
  "live_multiple_834-178-9": "required parameter missing",
  "live_multiple_835-178-10": "value not in the enum",
  "live_multiple_862-181-3": "undeclared parameter",
  "live_multiple_871-182-8": "value not in the enum",
  "live_multiple_947-197-0": "value not in the enum",
  "live_multiple_964-207-0": "required parameter missing",
  "live_multiple_1038-265-0": "null where the schema says string",
  "live_multiple_1041-268-0": "null where the schema says string",
  "live_parallel_multiple_2-2-0": "value not in the enum",
  "live_simple_71-35-0": "value not in the enum",
  "live_simple_106-63-0": "required parameter missing",
  "live_simple_112-68-0": "required parameter missing",
  "parallel_multiple_21": "string where the schema says array",
  "parallel_multiple_26": "undeclared parameter",
  "parallel_multiple_94": "string where the schema says number",
  "simple_java_26": "string where the schema says number",
  "simple_java_35": "string where the schema says array",
  "simple_java_36": "boolean where the schema says string; number where the schema says string",
  "simple_java_38": "string where the schema says object",
  "simple_java_45": "string where the schema says object",
  "simple_java_58": "string where the schema says object",
  "simple_java_62": "number where the schema says string",
  "simple_java_65": "boolean where the schema says string",
  "simple_java_69": "string where the schema says array",
  "simple_java_72": "string where the schema says array",
  "simple_java_82": "string where the schema says array",
  "simple_java_87": "string where the schema says number",
  "simple_java_88": "string where the schema says number",
  "simple_javascript_0": "boolean where the schema says string",
  "simple_javascript_1": "boolean where the schema says string",
  "simple_javascript_5": "string where the schema says object",
  "simple_javascript_9": "string where the schema says object",
  "simple_javascript_11": "boolean where the schema says string; string where the schema says array",
  "simple_javascript_12": "boolean where the schema says string",
  "simple_javascript_15": "string where the schema says array; string where the schema says object",
  "simple_javascript_19": "string where the schema says array; string where the schema says object",
  "simple_javascript_32": "string where the schema says array",
  "simple_javascript_37": "string where the schema says array",
  "simple_javascript_39": "string where the schema says array",
  "simple_python_200": "required parameter missing",
};

/** What kind of schema violation the validator's issues show. */
function reason(issues: ReadonlyArray<{ code: string; message: string }>): string {
  const kinds = new Set(
    issues.map((i) => {
      if (i.code === 'invalid_value') return 'value not in the enum';
      if (/received undefined/.test(i.message)) return 'required parameter missing';
      const m = /expected (\w+), received (\w+)/.exec(i.message);
      return m ? `${m[2]} where the schema says ${m[1]}` : i.message;
    }),
  );
  return [...kinds].sort().join('; ');
}

const readLines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
const isDict = (v: Lossless | undefined): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonNumber);

/** `value` with object keys in the schema's `properties` order (others after, as they were), recursively. */
function schemaOrder(value: Lossless, schema: unknown): Lossless {
  const s = (typeof schema === 'object' && schema !== null ? schema : {}) as { properties?: Record<string, unknown>; items?: unknown };
  if (Array.isArray(value)) return value.map((v) => schemaOrder(v, s.items));
  if (!isDict(value)) return value;
  const props = s.properties ?? {};
  const keys = [...Object.keys(props).filter((k) => Object.hasOwn(value, k)), ...Object.keys(value).filter((k) => !Object.hasOwn(props, k))];
  return Object.fromEntries(keys.map((k) => [k, schemaOrder(value[k]!, props[k])]));
}

if (!existsSync(dataDir)) {
  t.fail(`BFCL data not found at ${dataDir}: the tests expect the shared/ folder (shared/bfcl/data) beside the repository`);
} else {
  t.test('every BFCL ground-truth answer is accepted by its xLAM-2 grammar', async (t) => {
    const started = process.hrtime.bigint();
    const categories = readdirSync(join(dataDir, 'possible_answer')).filter((f) => f.endsWith('.json')).sort();
    let total = 0;
    let accepted = 0;
    let bytes = 0;
    let reordered = 0;
    const failures: string[] = [];
    const outside: Record<string, string> = {};
    const details: string[] = [];
    for (const file of categories) {
      const entries = new Map(readLines(join(dataDir, file)).map((l) => JSON.parse(l) as Entry).map((e) => [e.id, e]));
      for (const line of readLines(join(dataDir, 'possible_answer', file))) {
        const answer = parseJson(line, { numbers: 'literal' }) as unknown as Answer;
        const entry = entries.get(answer.id)!;
        total++;
        let tools: ToolDefinition[];
        let text: string;
        try {
          tools = bfclToTools(entry.function);
          const calls = answer.ground_truth.map((gt) => {
            const [name, params] = Object.entries(gt)[0]!;
            const doc = entry.function.find((d) => d.name === name)!;
            const tool = tools.find((x) => x.name === name)!;
            const args = firstAnswer(params, doc);
            const ordered = schemaOrder(args, tool.parameters);
            if (stringifyJson(ordered) !== stringifyJson(args)) reordered++;
            return { name, arguments: ordered };
          });
          text = stringifyJson(calls, true);
        } catch (err) {
          failures.push(`${answer.id}: ${(err as Error).message}`);
          continue;
        }
        bytes += Buffer.byteLength(text);
        const printed = printGbnf(toolCallGrammar(tools, { format: 'xlam2', toolChoice: 'required' }));
        const r = run(compileGrammar(parseGbnf(printed)), text);
        if (r.complete) {
          accepted++;
          continue;
        }
        const where = `${answer.id}: rejected at byte ${r.accepted} of ${r.length}: …${Buffer.from(text).subarray(Math.max(0, r.accepted - 60), r.accepted).toString()}⟨${Buffer.from(text).subarray(r.accepted, r.accepted + 20).toString()}⟩`;
        // Rejected: it must break its own schema (the JSON-Schema validator agrees), or pass
        // arguments the tool does not declare (which the non-strict grammar accepts).
        const flagged = parseToolCalls(text, tools).calls.flatMap((c) => (c.error?.code === 'INVALID_ARGUMENTS' ? c.error.issues ?? [] : []));
        if (flagged.length > 0) {
          outside[answer.id] = reason(flagged);
          details.push(`${where}\n    ${flagged.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        } else if (run(compileGrammar(toolCallGrammar(tools, { strict: false })), text).complete) {
          outside[answer.id] = 'undeclared parameter';
          details.push(`${where}\n    an undeclared parameter`);
        } else {
          failures.push(`${where} (the validator finds nothing wrong)`);
        }
      }
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    t.equal(total, 2501, 'entries with a ground truth');
    t.same(failures, [], 'every answer within its schema is accepted');
    if (!t.same(outside, OUTSIDE_SCHEMA, 'the answers known to be outside their schema, and why')) t.comment(details.join('\n'));
    t.comment(`${accepted} / ${total} accepted, ${Object.keys(outside).length} outside their schema, ${bytes} bytes of answers, ${reordered} calls with arguments put in schema order, ${seconds.toFixed(1)} s`);
    t.ok(seconds < 60, `well under a minute (${seconds.toFixed(1)} s)`);
  });
}
