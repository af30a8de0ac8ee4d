// Bad model folders made from a tiny fixture: a copy of its files, then edited; and the check that
// loading one fails with a typed XlamModelFormatError. Shared by the model-file tests.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Engine, XlamError, XlamModelFormatError } from '../../dist/lib/index.js';
// @ts-expect-error: plain JS module without types
import { fixtureByName, fixtureTensors } from '../../scripts/make-fixtures.mjs';
import { fixturePath } from './fixtures.js';

export interface SafeTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: ArrayBufferView;
}

/** The smallest vocabulary of the fixtures. */
export const BASE = 'mistral-f32';

export interface Folders {
  /** The base fixture's folder. */
  base: string;
  /** The temporary folder holding every copy. */
  root: string;
  /** A fresh copy of the base fixture's config and weights, then `edit`ed. */
  folder(edit: (dir: string) => void): string;
  /** Removes every folder made (for t.teardown). */
  remove(): void;
}

export function modelFolders(prefix: string): Folders {
  const base = fixturePath(BASE);
  const root = mkdtempSync(join(tmpdir(), prefix));
  let count = 0;
  return {
    base,
    root,
    folder(edit) {
      const dir = join(root, `m${count++}`);
      mkdirSync(dir);
      for (const f of ['config.json', 'generation_config.json', 'model.safetensors']) copyFileSync(join(base, f), join(dir, f));
      edit(dir);
      return dir;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The base fixture's tensors (fresh arrays), in file order. */
export function baseTensors(): SafeTensor[] {
  return fixtureTensors(fixtureByName(BASE)) as SafeTensor[];
}

/**
 * Writes a safetensors file from tensors, with `header` free to rewrite the header's JSON text
 * (padding, extra fields: what a standard writer would not produce).
 */
export function writeRawSafetensors(path: string, tensors: SafeTensor[], header: (json: string) => string = (j) => j): void {
  const h: Record<string, unknown> = {};
  let offset = 0;
  for (const t of tensors) {
    h[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const json = Buffer.from(header(JSON.stringify(h)), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const data = tensors.map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  writeFileSync(path, Buffer.concat([len, json, ...data]));
}

/** The greedy tokens a model folder gives for `prompt` (loads it, generates, closes it). */
export async function greedyTokens(dir: string, prompt: number[], maxTokens: number): Promise<number[]> {
  const engine = await Engine.load(dir);
  try {
    return (await engine.generateTokens(prompt, { maxTokens })).tokens;
  } finally {
    await engine.close();
  }
}

/** Loading `dir` fails with an XlamModelFormatError of `code`, naming the file and the tensor when given. */
export async function expectLoadError(t: Tap.Test, dir: string, code: string, file?: RegExp, tensor?: string): Promise<void> {
  const err = await Engine.load(dir).then(
    async (engine) => {
      await engine.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  t.ok(err instanceof XlamModelFormatError, `${code}: an XlamModelFormatError`);
  t.ok(err instanceof XlamError);
  const e = err as XlamModelFormatError;
  t.equal(e.code, code, `code: ${e.message}`);
  if (file) t.match(e.file ?? '', file, 'names the file');
  if (tensor !== undefined) t.equal(e.tensor, tensor, 'names the tensor');
}
