// Fuzz target: JSON Schema -> grammar. An input is a JSON schema; it is compiled to a grammar
// (jsonSchemaToGrammar, and toolCallGrammar for a tool taking it), lowered to bytes, and a few
// documents are matched by the TypeScript recognizer and the native matcher, which must agree.
// Only XlamInvalidArgumentError (a schema the compiler refuses) may come out.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

import { XlamError } from '../../../lib/errors.js';
import { compileGrammar } from '../../../lib/grammar/compile.js';
import { toByteGrammar } from '../../../lib/grammar/bytes.js';
import { toolCallGrammar } from '../../../lib/grammar/envelope.js';
import { matchPrefix } from '../../../lib/grammar/match.js';
import { jsonSchemaToGrammar } from '../../../lib/grammar/schema.js';
import { native, type NativeGrammarSession } from '../../../lib/native.js';
import { bfclToTools, type BfclFunctionDoc } from '../../../lib/tools/bfcl.js';
import { normalizeTools } from '../../../lib/tools/normalize.js';
import { repoPath } from './repo.js';
import type { FuzzTarget } from './target.js';

let session: NativeGrammarSession | undefined;
function byteSession(): NativeGrammarSession {
  if (!session) {
    const data = Uint8Array.from({ length: 256 }, (_, i) => i);
    session = new (native().GrammarSession)(data, Uint32Array.from({ length: 257 }, (_, i) => i), new Uint8Array(256).fill(1));
  }
  return session;
}

const PROBES = ['{}', '{"a": 1}', '{"city": "Paris", "unit": "c"}', '"x"', '""', '1', '-0.5e3', '[1, "a", null]', '[]', 'null', 'true',
  '{"a": {"b": [1, {"c": "2024-01-02"}]}}', '"2024-01-02T03:04:05Z"', '"a@b.co"', '"550e8400-e29b-41d4-a716-446655440000"',
  '[{"name": "f", "arguments": {}}]', '[{"name": "f", "arguments": {"a": 1}}]', 'plain text'];

function agree(g: Parameters<typeof compileGrammar>[0], extra: string[]): void {
  const compiled = compileGrammar(g);
  const bytes = toByteGrammar(compiled);
  for (const text of [...PROBES, ...extra]) {
    const b = Buffer.from(text, 'utf8');
    const ref = matchPrefix(compiled, b);
    const n = byteSession().matchBytes(bytes, b);
    const nativeComplete = n.accepted === b.length && n.complete;
    if (n.accepted !== ref.accepted || nativeComplete !== ref.complete)
      throw new Error(`native and reference disagree on ${JSON.stringify(text)}: native ${n.accepted} bytes (complete ${nativeComplete}), reference ${ref.accepted} (complete ${ref.complete})`);
  }
}

export const target: FuzzTarget = {
  maxLen: 16 * 1024,
  json: true,
  dict: ['type', 'object', 'array', 'string', 'number', 'integer', 'boolean', 'null', 'properties', 'required', 'items', 'prefixItems',
    'additionalProperties', 'enum', 'const', 'anyOf', 'oneOf', 'allOf', 'not', '$ref', '$defs', 'definitions', '#/$defs/a', '#',
    'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern', 'format',
    'date', 'date-time', 'time', 'email', 'uuid', 'ipv4', 'ipv6', 'uri', 'minItems', 'maxItems', 'uniqueItems', 'minProperties',
    'maxProperties', 'default', 'description', 'title', 'nullable', '^[a-z]+$', '(a|b)*', '\\d{3,}', '[^"]', '.{2,5}', 'x{100000}'],
  seeds() {
    const schemas: unknown[] = [
      { type: 'object', properties: { city: { type: 'string', minLength: 1, maxLength: 24 }, unit: { enum: ['c', 'f'] } }, required: ['city'] },
      { type: 'array', items: { type: 'integer', minimum: -5, maximum: 500 }, minItems: 1, maxItems: 3 },
      { anyOf: [{ type: 'string', format: 'date' }, { type: 'number', exclusiveMinimum: 0 }, { type: 'null' }] },
      { $defs: { a: { type: 'object', properties: { next: { $ref: '#/$defs/a' } } } }, $ref: '#/$defs/a' },
      { type: 'string', pattern: '^[A-Z]{2}-\\d{3,5}(x|y)?$' },
      { type: 'object', additionalProperties: { type: 'boolean' }, minProperties: 1 },
      { type: 'array', prefixItems: [{ const: 1 }, { type: 'string', format: 'uuid' }], items: false },
      { allOf: [{ type: 'object', properties: { a: { type: 'number', multipleOf: 0.5 } } }], oneOf: [{ required: ['a'] }] },
      { type: ['string', 'null'], format: 'email' }, true, {},
    ];
    const dataDir = repoPath('..', 'shared', 'bfcl', 'data');
    if (existsSync(dataDir)) {
      for (const f of readdirSync(dataDir).filter((f) => f.endsWith('.json')).sort()) {
        const lines = readFileSync(`${dataDir}/${f}`, 'utf8').split('\n').filter(Boolean).slice(0, 20);
        for (const line of lines) {
          const docs = (JSON.parse(line) as { function: BfclFunctionDoc[] }).function;
          try {
            for (const t of bfclToTools(docs)) schemas.push(t.parameters);
          } catch { /* a doc the converter refuses is no seed */ }
        }
      }
    }
    return schemas.map((s) => Buffer.from(JSON.stringify(s)));
  },
  run(data) {
    let schema: unknown;
    try {
      schema = JSON.parse(data.toString('utf8'));
    } catch {
      return;
    }
    const extra: string[] = [];
    if (schema && typeof schema === 'object') {
      for (const k of ['default', 'const', 'examples']) if (k in schema) extra.push(JSON.stringify((schema as Record<string, unknown>)[k]) ?? '');
    }
    try {
      agree(jsonSchemaToGrammar(schema), extra);
    } catch (err) {
      if (!(err instanceof XlamError)) throw err;
    }
    // The tool-call envelope around the same schema (also when the bare schema is refused).
    const tools = normalizeTools([{ name: 'f', parameters: schema as Record<string, unknown> }]);
    agree(toolCallGrammar(tools, { format: 'xlam2', toolChoice: 'required' }), []);
  },
  expected: (err) => err instanceof XlamError,
};
