// The child process of test/napi-boundary.test.ts: calls every export of the raw addon (and every
// method of its NativeEngine and GrammarSession) with wrong arity, wrong types, null / undefined,
// BigInt, symbols, huge and sparse arrays, detached buffers, throwing getters, a wrong receiver
// and after close (then Engine.generateTokens with huge sparse arrays), and prints one JSON line
// per case: { name, want, got }. `got` is what happened: 'ok', 'reject:<code>' (a rejected
// promise), 'throw:<code>' (a thrown error with a code), 'throw:TypeError' (a TypeError without
// code: V8's own receiver / constructor checks), or 'passthrough' (the very error a JS getter
// threw went on unchanged). A crash ends the process before its last line
// ({ done: true, tokens }), which the parent checks.
import { Engine } from '../../dist/lib/index.js';
import { native } from '../../dist/lib/native.js';
import { compileGrammar, parseGbnf, toByteGrammar } from '../../dist/lib/grammar/index.js';

const [model, goldenIds] = [process.argv[2], JSON.parse(process.argv[3])];
const addon = native();
const boom = new Error('thrown by a getter');

function outcome(f) {
  let r;
  try {
    r = f();
  } catch (err) {
    if (err === boom) return 'passthrough';
    if (err?.code) return `throw:${err.code}`;
    return `throw:${err?.constructor?.name ?? typeof err}`;
  }
  if (r instanceof Promise)
    return r.then(
      (v) => {
        v?.close?.();
        return 'ok';
      },
      (err) => (err === boom ? 'passthrough' : `reject:${err?.code ?? err?.constructor?.name}`),
    );
  return 'ok';
}

async function check(name, want, f) {
  const got = await outcome(f);
  console.log(JSON.stringify({ name, want, got }));
}

const GENERIC = [
  ['no argument', []],
  ['undefined', [undefined]],
  ['null', [null]],
  ['a number', [42]],
  ['a string', ['x']],
  ['a BigInt', [10n]],
  ['a symbol', [Symbol('s')]],
  ['an object', [{}]],
  ['an array', [[]]],
  ['a function', [() => {}]],
  ['too many', [null, null, null, null, null]],
];
const bad = 'throw:INVALID_ARGUMENT';
const throwingGetter = (key) => Object.defineProperty({}, key, { get: () => { throw boom; }, enumerable: true });
const sparse = () => new Array(2 ** 32 - 1);
const detached = () => {
  const view = new Uint8Array(8);
  structuredClone(view.buffer, { transfer: [view.buffer] }); // detaches the view's buffer
  return view;
};
const grammar = toByteGrammar(compileGrammar(parseGbnf('root ::= "ab" [0-9]*')));

// --- module functions
for (const [label, args] of GENERIC) {
  const want = label === 'a string' ? 'reject:MODEL_NOT_FOUND' : bad;
  await check(`loadEngine(${label})`, want, () => addon.loadEngine(...args));
}
await check('loadEngine(path with a NUL)', bad, () => addon.loadEngine(`${model}\0/x`));
await check('loadEngine(empty path)', bad, () => addon.loadEngine(''));
await check('loadEngine(10 MB path)', 'reject:MODEL_NOT_FOUND', () => addon.loadEngine('/x'.repeat(5 << 20)));
await check('loadEngine(path, null)', bad, () => addon.loadEngine(model, null));
await check('loadEngine(path, 5)', bad, () => addon.loadEngine(model, 5));
for (const [key, value] of [['threads', 'x'], ['threads', 1e10], ['threads', 2n], ['blockSize', NaN], ['blockSize', 0], ['kvCacheTokens', -1], ['kvCacheTokens', 2 ** 40], ['maxBatchTokens', 1.5], ['maxSequences', Infinity], ['backend', 5], ['computePriority', 7], ['computePriority', 'realtime']])
  await check(`loadEngine(path, { ${key}: ${String(value)} })`, bad, () => addon.loadEngine(model, { [key]: value }));
await check('loadEngine(path, { backend: "tpu" })', 'reject:INVALID_ARGUMENT', () => addon.loadEngine(model, { backend: 'tpu' }));
await check('loadEngine(path, options with a throwing getter)', 'passthrough', () => addon.loadEngine(model, throwingGetter('threads')));
await check('loadEngine(path, Proxy throwing on every get)', 'passthrough', () => addon.loadEngine(model, new Proxy({}, { get: () => { throw boom; } })));
for (const [label, args] of GENERIC) await check(`backendNames(${label})`, 'ok', () => addon.backendNames(...args));

// --- GrammarSession
const G = addon.GrammarSession;
await check('GrammarSession() without new', 'throw:TypeError', () => G());
for (const [label, args] of GENERIC) await check(`new GrammarSession(${label})`, bad, () => new G(...args));
await check('new GrammarSession(wrong typed-array types)', bad, () => new G(new Uint32Array(1), new Uint8Array(2), new Uint8Array(1)));
await check('new GrammarSession(detached buffers)', bad, () => new G(detached(), new Uint32Array([0, 1]), detached()));
await check('new GrammarSession(offsets beyond the data)', bad, () => new G(new Uint8Array(1), new Uint32Array([0, 9]), new Uint8Array(1)));
await check('new GrammarSession(descending offsets)', bad, () => new G(new Uint8Array(4), new Uint32Array([0, 3, 1]), new Uint8Array(2)));
const vocab = [new TextEncoder().encode('ab0123456789'), Uint32Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12), new Uint8Array(12).fill(1)];
const session = new G(...vocab);
for (const method of ['matchBytes', 'mask', 'forced', 'replay'])
  for (const [label, args] of GENERIC) await check(`GrammarSession.${method}(${label})`, bad, () => session[method](...args));
await check('GrammarSession.mask(grammar with a missing array)', bad, () => session.mask({ ...grammar, sets: undefined }));
await check('GrammarSession.mask(grammar with 7 words of sets)', bad, () => session.mask({ ...grammar, sets: new Uint32Array(7) }));
await check('GrammarSession.mask(grammar with root out of range)', bad, () => session.mask({ ...grammar, root: 1 << 29 }));
await check('GrammarSession.mask(grammar with garbage references)', bad, () => session.mask({ ...grammar, arg: grammar.arg.map(() => 1 << 30) }));
await check('GrammarSession.mask(grammar, a sparse 2^32-1 array)', bad, () => session.mask(grammar, sparse()));
await check('GrammarSession.mask(grammar, an id past the vocabulary)', bad, () => session.mask(grammar, [999]));
await check('GrammarSession.replay(grammar, 2^25 ids)', bad, () => session.replay(grammar, new Int32Array(1 << 25)));
await check('GrammarSession.replay(grammar, refused tokens)', bad, () => session.replay(grammar, [1, 0]));
await check('GrammarSession.mask(grammar, [0, 1]) (valid)', 'ok', () => session.mask(grammar, [0, 1]));
await check('GrammarSession.matchBytes(grammar, bytes) (valid)', 'ok', () => session.matchBytes(grammar, new TextEncoder().encode('ab12')));
for (const [label, args] of GENERIC) await check(`GrammarSession.stats(${label})`, 'ok', () => session.stats(...args));

// --- NativeEngine
const engine = await addon.loadEngine(model, { kvCacheTokens: 2048 });
await check('NativeEngine constructor from JS', bad, () => new engine.constructor());
await check('NativeEngine constructor from JS with a number', bad, () => new engine.constructor(1));
await check('submit before listen', bad, () => engine.submit({ promptIds: [1] }));
for (const [label, args] of GENERIC.filter(([l]) => l !== 'a function')) await check(`listen(${label})`, bad, () => engine.listen(...args));
const finished = new Map();
let wake;
await check('listen(fn)', 'ok', () =>
  engine.listen((events) => {
    for (const e of events) {
      const r = finished.get(e.id) ?? { tokens: [] };
      if (e.token >= 0) r.tokens.push(e.token);
      if (e.finish) r.finish = e.error?.code ?? e.finish;
      finished.set(e.id, r);
    }
    wake?.();
  }),
);
await check('listen(fn) twice', bad, () => engine.listen(() => {}));
for (const [label, args] of GENERIC) await check(`submit(${label})`, bad, () => engine.submit(...args));
const requests = [
  ['a sparse 2^32-1 promptIds', { promptIds: sparse() }, bad],
  ['promptIds with holes', { promptIds: new Array(1000) }, bad],
  ['2^25 promptIds in an Int32Array', { promptIds: new Int32Array(1 << 25) }, bad],
  ['100,000 promptIds', { promptIds: new Int32Array(100_000) }, 'throw:CONTEXT_OVERFLOW'],
  ['a negative id in an Int32Array', { promptIds: Int32Array.of(1, -1) }, bad],
  ['an id past the vocabulary', { promptIds: [1e9] }, bad],
  ['an id of 2^40', { promptIds: [2 ** 40] }, bad],
  ['a fractional id', { promptIds: [1.5] }, bad],
  ['a BigInt id', { promptIds: [1n] }, bad],
  ['promptIds as a string', { promptIds: '1,2' }, bad],
  ['promptIds as an array-like', { promptIds: { length: 2, 0: 1, 1: 2 } }, bad],
  ['a throwing promptIds getter', throwingGetter('promptIds'), 'passthrough'],
  ['a throwing element getter', { promptIds: Object.defineProperty([1, 2], 1, { get: () => { throw boom; } }) }, 'passthrough'],
  ['a Proxy throwing on every get', new Proxy({}, { get: () => { throw boom; } }), 'passthrough'],
  ['maxTokens 0', { promptIds: [1], maxTokens: 0 }, bad],
  ['maxTokens 1.5', { promptIds: [1], maxTokens: 1.5 }, bad],
  ['maxTokens 2^40', { promptIds: [1], maxTokens: 2 ** 40 }, bad],
  ['maxTokens as a BigInt', { promptIds: [1], maxTokens: 10n }, bad],
  ['temperature NaN', { promptIds: [1], temperature: NaN }, bad],
  ['temperature Infinity', { promptIds: [1], temperature: Infinity }, bad],
  ['temperature -1', { promptIds: [1], temperature: -1 }, bad],
  ['temperature as a string', { promptIds: [1], temperature: '1' }, bad],
  ['topP 2', { promptIds: [1], topP: 2 }, bad],
  ['topK -1', { promptIds: [1], topK: -1 }, bad],
  ['topK 2^31', { promptIds: [1], topK: 2 ** 31 }, bad],
  ['minP -0.5', { promptIds: [1], minP: -0.5 }, bad],
  ['seed -1', { promptIds: [1], seed: -1 }, bad],
  ['seed 2^53', { promptIds: [1], seed: 2 ** 53 }, bad],
  ['seed 1.5', { promptIds: [1], seed: 1.5 }, bad],
  ['topLogprobs 101', { promptIds: [1], topLogprobs: 101 }, bad],
  ['logitBias as a string', { promptIds: [1], logitBias: 'x' }, bad],
  ['logitBias [[1]]', { promptIds: [1], logitBias: [[1]] }, bad],
  ['logitBias [[1, "a"]]', { promptIds: [1], logitBias: [[1, 'a']] }, bad],
  ['logitBias [["a", 1]]', { promptIds: [1], logitBias: [['a', 1]] }, bad],
  ['logitBias [[1, NaN]]', { promptIds: [1], logitBias: [[1, NaN]] }, bad],
  ['logitBias for an id past the vocabulary', { promptIds: [1], logitBias: [[1e9, 1]] }, bad],
  ['a sparse 2^32-1 logitBias', { promptIds: [1], logitBias: sparse() }, bad],
  ['a sparse 2^32-1 stopIds', { promptIds: [1], stopIds: sparse() }, bad],
  ['stopIds as a number', { promptIds: [1], stopIds: 5 }, bad],
  ['grammar 5', { promptIds: [1], grammar: 5 }, bad],
  ['grammar {}', { promptIds: [1], grammar: {} }, bad],
  ['grammar with 7 words of sets', { promptIds: [1], grammar: { ...grammar, sets: new Uint32Array(7) } }, bad],
  ['a grammar before setTokenBytes', { promptIds: [1], grammar }, bad],
];
for (const [label, req, want] of requests) await check(`submit(${label})`, want, () => engine.submit(req));
for (const [label, args] of GENERIC) await check(`setTokenBytes(${label})`, bad, () => engine.setTokenBytes(...args));
const n = engine.info().vocabSize;
await check('setTokenBytes(offsets beyond the data)', bad, () => engine.setTokenBytes(new Uint8Array(1), Uint32Array.of(0, 5), Uint8Array.of(1)));
await check('setTokenBytes(more ids than the vocabulary)', bad, () => engine.setTokenBytes(new Uint8Array(0), new Uint32Array(n + 2), new Uint8Array(n + 1)));
await check('setTokenBytes(detached buffers)', bad, () => engine.setTokenBytes(detached(), new Uint32Array(2), detached()));
await check('setTokenBytes(valid)', 'ok', () => engine.setTokenBytes(...vocab));
await check('submit(a grammar with garbage references)', bad, () => engine.submit({ promptIds: [1], grammar: { ...grammar, arg: grammar.arg.map(() => 1 << 30) } }));
for (const method of ['cancel', 'pause', 'resume']) {
  for (const [label, args] of GENERIC) await check(`${method}(${label})`, label === 'a number' ? 'ok' : bad, () => engine[method](...args));
  for (const id of [-1, NaN, 1.5, Infinity, 2 ** 60]) await check(`${method}(${id})`, bad, () => engine[method](id));
  await check(`${method}(an unknown id)`, 'ok', () => engine[method](1e9));
}
for (const method of ['stats', 'info']) for (const [label, args] of GENERIC) await check(`${method}(${label})`, 'ok', () => engine[method](...args));
await check('submit with another object as this', 'throw:TypeError', () => engine.submit.call({}, { promptIds: [1] }));
await check('stats with a GrammarSession as this', 'throw:TypeError', () => engine.stats.call(session));
await check('GrammarSession.mask with an engine as this', 'throw:TypeError', () => session.mask.call(engine, grammar));
await check('info with undefined as this', 'throw:TypeError', () => engine.info.call(undefined));

// The engine still generates the golden tokens after all of that.
const id = engine.submit({ promptIds: goldenIds, maxTokens: 8, temperature: 0 });
while (!finished.get(id)?.finish) await new Promise((r) => (wake = r));
const tokens = finished.get(id).tokens;
const usedAfter = engine.stats().kvBlocksUsed;

await check('close()', 'ok', () => engine.close());
await check('close() twice', 'ok', () => engine.close());
for (const [method, args] of [['listen', [() => {}]], ['submit', [{ promptIds: [1] }]], ['cancel', [1]], ['pause', [1]], ['resume', [1]], ['setTokenBytes', vocab], ['stats', []], ['info', []]])
  await check(`${method} after close`, 'throw:ENGINE_CLOSED', () => engine[method](...args));

// The typed API in front of it refuses the same huge arrays before looking at their elements.
const typed = await Engine.load(model);
await check('Engine.generateTokens(a sparse 2^32-1 array)', 'reject:INVALID_ARGUMENT', () => typed.generateTokens(sparse()));
await check('Engine.generateTokens(ids, { stopTokenIds: a sparse 2^32-1 array })', 'reject:INVALID_ARGUMENT', () => typed.generateTokens([1], { stopTokenIds: sparse() }));
// 2^24 holes: within the length limit, and before the schema saw only the first bad entry, ~8 GB of zod issues.
await check('Engine.generateTokens(a sparse 2^24 array)', 'reject:INVALID_ARGUMENT', () => typed.generateTokens(new Array(1 << 24)));
await check('Engine.generateTokens(ids, { stopTokenIds: a sparse 2^24 array })', 'reject:INVALID_ARGUMENT', () => typed.generateTokens([1], { stopTokenIds: new Array(1 << 24) }));
await typed.close();

console.log(JSON.stringify({ done: true, tokens, usedAfter }));
