/**
 * The render worker: renders prompt jobs off the host's event loop, one at a time, and answers
 * with the text or the error as data.
 */
import { parentPort } from 'node:worker_threads';

import { runRenderJob, type RenderJob } from './job.js';
import { errorToData } from './wire.js';

parentPort?.postMessage({ ready: true });
parentPort?.on('message', (msg: { id: number; job: RenderJob }) => {
  try {
    parentPort!.postMessage({ id: msg.id, ok: true, value: runRenderJob(msg.job) });
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, error: errorToData(err) });
  }
});
