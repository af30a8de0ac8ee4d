// Mutations of fuzz inputs, in the manner of libFuzzer's (bit flips, byte edits, dictionary
// words, copies within and across inputs, interesting integers) plus a structure-aware one for
// JSON inputs (replace, delete or duplicate a node, with values from the dictionary). Seeded, so
// a run reproduces from its seed.

import { prng } from '../helpers/prng.js';

export type Rng = () => number;
export { prng };

const INTERESTING = ['0', '-1', '1', '255', '256', '65535', '2147483647', '-2147483648', '4294967296', '9007199254740993',
  '1e308', '-1e-320', '0.5', 'NaN', '""', 'null', 'true', '[]', '{}'];

export interface Mutator {
  mutate(input: Buffer, other: Buffer | undefined, maxLen: number): Buffer;
}

export function createMutator(rng: Rng, dict: readonly string[], json: boolean): Mutator {
  const pick = (n: number) => Math.floor(rng() * n);
  const words = [...dict, ...INTERESTING].map((w) => Buffer.from(w, 'utf8'));
  const word = () => words[pick(words.length)]!;

  function byteStep(b: Buffer, other: Buffer | undefined): Buffer {
    const at = pick(b.length + 1);
    switch (pick(10)) {
      case 0: if (b.length) { const c = Buffer.from(b); c[pick(b.length)]! ^= 1 << pick(8); return c; } return word();
      case 1: if (b.length) { const c = Buffer.from(b); c[pick(b.length)] = pick(256); return c; } return Buffer.from([pick(256)]);
      case 2: { // erase a range
        const n = 1 + pick(Math.min(16, Math.max(1, b.length - at)));
        return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
      }
      case 3: return Buffer.concat([b.subarray(0, at), word(), b.subarray(at)]);
      case 4: { // overwrite with a word
        const w = word();
        return Buffer.concat([b.subarray(0, at), w, b.subarray(Math.min(b.length, at + w.length))]);
      }
      case 5: { // duplicate a range
        const s = pick(b.length + 1), n = pick(Math.min(64, b.length - s) + 1);
        return Buffer.concat([b.subarray(0, at), b.subarray(s, s + n), b.subarray(at)]);
      }
      case 6: { // splice with another input
        if (!other || !other.length) return Buffer.concat([b, word()]);
        const s = pick(other.length), n = 1 + pick(Math.min(256, other.length - s));
        return Buffer.concat([b.subarray(0, at), other.subarray(s, s + n), b.subarray(at)]);
      }
      case 7: { // cross over: head of this, tail of the other
        if (!other) return b;
        return Buffer.concat([b.subarray(0, at), other.subarray(pick(other.length + 1))]);
      }
      case 8: { // replace a digit run with an interesting number
        const s = b.toString('latin1');
        const runs = [...s.matchAll(/-?\d+(?:\.\d+)?(?:e-?\d+)?/g)];
        if (!runs.length) return Buffer.concat([b.subarray(0, at), word(), b.subarray(at)]);
        const r = runs[pick(runs.length)]!;
        return Buffer.concat([b.subarray(0, r.index), Buffer.from(INTERESTING[pick(INTERESTING.length)]!), b.subarray(r.index! + r[0].length)]);
      }
      default: { // insert random bytes (often ASCII)
        const n = 1 + pick(4);
        const bytes = Buffer.from(Array.from({ length: n }, () => (rng() < 0.7 ? 32 + pick(95) : pick(256))));
        return Buffer.concat([b.subarray(0, at), bytes, b.subarray(at)]);
      }
    }
  }

  function jsonStep(b: Buffer): Buffer | undefined {
    let doc: unknown;
    try {
      doc = JSON.parse(b.toString('utf8'));
    } catch {
      return undefined;
    }
    const nodes: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
    const walk = (v: unknown, depth: number) => {
      if (nodes.length > 4000 || depth > 64 || v === null || typeof v !== 'object') return;
      for (const [k, c] of Object.entries(v)) {
        nodes.push({ parent: v as Record<string, unknown>, key: Array.isArray(v) ? Number(k) : k });
        walk(c, depth + 1);
      }
    };
    walk(doc, 0);
    if (!nodes.length) return undefined;
    const { parent, key } = nodes[pick(nodes.length)]!;
    const p = parent as Record<string | number, unknown>;
    const donor = nodes[pick(nodes.length)]!;
    const donorValue = (donor.parent as Record<string | number, unknown>)[donor.key];
    const values: unknown[] = [null, true, 0, -1, 1.5, 2 ** 53, '', 'a'.repeat(1 + pick(40)), [], {}, [p[key]], { x: p[key] },
      String.fromCodePoint(0xd800 + pick(0x800)), dict.length ? dict[pick(dict.length)] : 'x'];
    switch (pick(5)) {
      case 0: p[key] = values[pick(values.length)]; break;
      case 1: if (Array.isArray(parent)) parent.splice(key as number, 1); else delete p[key]; break;
      case 2: if (Array.isArray(parent)) parent.splice(key as number, 0, structuredClone(p[key])); else p[`${String(key)}_`] = structuredClone(p[key]); break;
      case 3: p[key] = structuredClone(donorValue); break; // copy another node here (may nest it in itself)
      default: if (!Array.isArray(parent) && dict.length) { p[dict[pick(dict.length)]!] = structuredClone(p[key]); } else p[key] = values[pick(values.length)];
    }
    const text = JSON.stringify(doc, null, rng() < 0.5 ? undefined : 1);
    return text === undefined ? undefined : Buffer.from(text, 'utf8');
  }

  return {
    mutate(input, other, maxLen) {
      let b = input;
      if (json && rng() < 0.5) b = jsonStep(b) ?? byteStep(b, other);
      for (let i = 0, n = 1 + pick(4); i < n; ++i) b = byteStep(b, other);
      return b.length > maxLen ? b.subarray(0, maxLen) : b;
    },
  };
}
