// The body of the Workers of test/worker-threads.test.ts: loads an Engine inside the Worker and
// runs one task on it, reporting to the parent with postMessage ({ type: 'loading' } and
// { type: 'loaded' } around Engine.load, then per task):
//   generate: on the parent's 'go', { type: 'tokens', tokens } with each request's tokens (all
//             submitted at once), then close()
//   stream:   { type: 'text' } per text event of a long request, until the parent terminates it
//   exit:     process.exit() in the Worker while a request is generating (no close())
//   idle:     ends with the engine loaded and idle (no close())
import { parentPort, workerData } from 'node:worker_threads';

import { Engine } from '../../dist/lib/index.js';

const { model, task, requests = [] } = workerData;
parentPort.postMessage({ type: 'loading' });
const engine = await Engine.load(model);
parentPort.postMessage({ type: 'loaded' });

if (task === 'generate') {
  await new Promise((resolve) => parentPort.once('message', resolve)); // the parent's 'go'
  const results = await Promise.all(requests.map((r) => engine.generate(r)));
  parentPort.postMessage({ type: 'tokens', tokens: results.map((r) => r.tokenIds) });
  await engine.close();
} else if (task === 'stream') {
  for await (const ev of engine.stream(requests[0])) if (ev.type === 'text') parentPort.postMessage({ type: 'text' });
} else if (task === 'exit') {
  let n = 0;
  for await (const ev of engine.stream(requests[0])) if (ev.type === 'text' && ++n === 3) process.exit(0);
}
