// Type-level test of the typed tool calls, compiled (never run) by test/parse.test.ts with
// `tsc --noEmit -p test/types/tsconfig.json` against the built declarations in dist/. Every
// `@ts-expect-error` line must be an error: if narrowing broke (e.g. `arguments` became `any` or
// `unknown`), the directive would be unused and the compile would fail.
import { z } from 'zod';

import {
  normalizeTools,
  parseToolCalls,
  tool,
  ToolCallStreamParser,
  type JsonObject,
  type ToolCall,
  type ToolDefinition,
} from '../../dist/lib/index.js';

type Equal<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | undefined {
  return undefined;
}

const weather = tool({
  name: 'get_weather',
  description: 'Current weather of a city.',
  parameters: z.object({ city: z.string(), unit: z.enum(['c', 'f']).default('c'), days: z.number().int().optional() }),
});
const search = tool({
  name: 'web.search',
  parameters: z.object({ query: z.string(), limit: z.number().transform((n) => String(n)) }),
});

// tool() keeps the literal name and the zod output type.
assertType<Equal<typeof weather.name, 'get_weather'>>();
assertType<Equal<z.output<typeof weather.schema>, { city: string; unit: 'c' | 'f'; days?: number | undefined }>>();

const { calls, text } = parseToolCalls('...', [weather, search]);
assertType<Equal<typeof text, string>>();

for (const call of calls) {
  // Before narrowing on `error`, arguments are not typed.
  // @ts-expect-error unknown until the call is known to be valid
  call.arguments.city;
  if (call.error) {
    assertType<Equal<typeof call.error.code, 'UNKNOWN_TOOL' | 'INVALID_ARGUMENTS' | 'MALFORMED_CALL' | 'INCOMPLETE_CALL'>>();
    assertType<Equal<typeof call.name, string>>();
    continue;
  }
  assertType<Equal<typeof call.name, 'get_weather' | 'web.search'>>();
  if (call.name === 'get_weather') {
    assertType<Equal<typeof call.arguments, { city: string; unit: 'c' | 'f'; days?: number | undefined }>>();
    const city: string = call.arguments.city;
    const unit: 'c' | 'f' = call.arguments.unit;
    // @ts-expect-error city is a string
    const n: number = call.arguments.city;
    // @ts-expect-error get_weather has no query
    call.arguments.query;
    void city, unit, n;
  } else {
    assertType<Equal<typeof call.name, 'web.search'>>();
    // The zod *output* type: limit went through a transform to string.
    const limit: string = call.arguments.limit;
    // @ts-expect-error limit is a string after the transform
    const m: number = call.arguments.limit;
    // @ts-expect-error web.search has no city
    call.arguments.city;
    void limit, m;
  }
  switch (call.name) {
    case 'get_weather':
      call.arguments.unit satisfies 'c' | 'f';
      break;
    case 'web.search':
      call.arguments.query satisfies string;
      break;
    default:
      call satisfies never;
  }
  // @ts-expect-error not one of the tools
  if (call.name === 'get_time') void 0;
}

// OpenAI-shaped and bare tools written inline keep literal names; arguments are JSON objects.
const mixed = parseToolCalls('...', [
  weather,
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
  { name: 'math.add', parameters: { type: 'object', properties: { a: { type: 'number' } } } },
]);
for (const call of mixed.calls) {
  if (call.error) continue;
  if (call.name === 'get_time') assertType<Equal<typeof call.arguments, JsonObject>>();
  if (call.name === 'math.add') assertType<Equal<typeof call.arguments, JsonObject>>();
  if (call.name === 'get_weather') call.arguments.city satisfies string;
}

// Without tools: any name, JSON-object arguments.
for (const call of parseToolCalls('...').calls) {
  if (call.error) continue;
  assertType<Equal<typeof call.name, string>>();
  assertType<Equal<typeof call.arguments, JsonObject>>();
}

// A plain ToolDefinition[] (e.g. normalizeTools' result over a mutable array): names are strings.
const defs: ToolDefinition[] = normalizeTools([{ name: 'x', parameters: { type: 'object', properties: {} } }]);
for (const call of parseToolCalls('...', defs).calls) if (!call.error) assertType<Equal<typeof call.arguments, JsonObject>>();

// normalizeTools keeps names and argument types per position.
const normalized = normalizeTools([weather, { name: 'b', parameters: { type: 'object' } }]);
assertType<Equal<(typeof normalized)[0]['name'], 'get_weather'>>();
assertType<Equal<(typeof normalized)[1]['name'], 'b'>>();

// An empty tool list admits no valid call.
for (const call of parseToolCalls('...', []).calls) call.error satisfies object;

// The streaming parser's end events carry the same typed calls.
const parser = new ToolCallStreamParser([weather, search], { format: 'xlam2' });
for (const e of [...parser.push('['), ...parser.end()]) {
  if (e.type === 'tool_call_end' && !e.call.error && e.call.name === 'web.search') {
    e.call.arguments.limit satisfies string;
  }
  if (e.type === 'tool_call_delta') e.argumentsDelta satisfies string;
  if (e.type === 'tool_call_start') e.name satisfies string;
  if (e.type === 'text') e.delta satisfies string;
}
const typedCalls: ToolCall<[typeof weather]>[] = parseToolCalls('', [weather]).calls;
void typedCalls;

// @ts-expect-error format is one of the known names
parseToolCalls('', [weather], { format: 'xlam3' });
// @ts-expect-error tool() needs a zod schema
tool({ name: 'x', parameters: { type: 'object' } });
// @ts-expect-error tool() needs an object schema
tool({ name: 'x', parameters: z.string() });
// Refined, transformed, strict, recursive and optional-heavy object schemas are fine.
tool({ name: 'r', parameters: z.object({ a: z.string() }).refine((v) => v.a !== '') });
tool({ name: 't', parameters: z.object({ a: z.string() }).transform((v) => v.a.length) });
tool({ name: 's', parameters: z.strictObject({ a: z.string().optional(), b: z.record(z.string(), z.number()) }) });
const Tree: z.ZodType<{ name: string; kids: unknown[] }> = z.object({ name: z.string(), get kids() { return z.array(Tree); } });
tool({ name: 'tree', parameters: z.object({ root: Tree }) });
