// The child process of test/engine-lifecycle.test.ts: loads an engine, starts 8 long requests
// (4 generate, 4 stream), and once tokens flow ends the process while they are in flight, as
// argv[3] says: `exit` calls process.exit(0), `throw` throws an uncaught error, `unhandled`
// leaves a rejected promise unhandled. Prints 'exiting' just before.
import { Engine } from '../../dist/lib/index.js';

const [model, mode] = process.argv.slice(2);
const engine = await Engine.load(model);
const req = (i) => ({ promptTokens: [5 + i, 6, 7], maxTokens: 1500, ignoreEos: true });
for (let i = 0; i < 4; i++) engine.generate(req(i)).catch(() => {});
let texts = 0;
const streams = [4, 5, 6, 7].map(async (i) => {
  for await (const ev of engine.stream(req(i))) {
    if (ev.type === 'text' && ++texts === 20) end();
  }
});
void streams;
function end() {
  console.log('exiting');
  if (mode === 'exit') process.exit(0);
  if (mode === 'throw') setImmediate(() => { throw new Error('uncaught with 8 requests in flight'); });
  if (mode === 'unhandled') void Promise.reject(new Error('unhandled with 8 requests in flight'));
}
