/**
 * The raw bytes of every vocabulary id, for constrained decoding: what each token appends to the
 * output, as bytes. Byte-level BPE: the GPT-2 alphabet mapped back to bytes. SentencePiece:
 * "▁" as a space, `<0xAB>` byte-fallback tokens as that one byte. Added and special tokens: the
 * UTF-8 of their text. Computed once into one buffer.
 */
import { CHAR_TO_BYTE } from './byte-level.js';
import { applySteps, fallbackByte, type DecoderPlan } from './decoder.js';

/** The byte strings of ids 0..n-1, packed: id i is data[offsets[i] .. offsets[i+1]). */
export interface TokenBytesTable {
  data: Uint8Array;
  offsets: Uint32Array;
}

/**
 * Builds the table. `tokens[id]` is the vocabulary string (undefined for an unused id: no bytes);
 * `added[id]` is 1 for added tokens.
 */
export function buildTokenBytes(plan: DecoderPlan, tokens: ReadonlyArray<string | undefined>, added: Uint8Array): TokenBytesTable {
  const n = tokens.length;
  let capacity = 0;
  for (let id = 0; id < n; id++) capacity += tokens[id]?.length ?? 0;
  let data = new Uint8Array(capacity * 2 + 64);
  const offsets = new Uint32Array(n + 1);
  const utf8 = new TextEncoder();
  let o = 0;
  const ensure = (free: number) => {
    if (data.length - o >= free) return;
    const bigger = new Uint8Array(Math.max(data.length * 2, o + free));
    bigger.set(data.subarray(0, o));
    data = bigger;
  };
  const putUtf8 = (s: string) => {
    ensure(s.length * 3);
    o += utf8.encodeInto(s, data.subarray(o)).written;
  };
  for (let id = 0; id < n; id++) {
    offsets[id] = o;
    const token = tokens[id];
    if (token === undefined) continue;
    if (added[id] === 1 || plan.kind === 'join') {
      putUtf8(token);
    } else if (plan.kind === 'byte-level') {
      const start = o;
      ensure(token.length);
      for (let i = 0; i < token.length; i++) {
        const c = token.charCodeAt(i);
        const b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c]! : -1;
        if (b < 0) {
          o = start;
          putUtf8(token); // not byte-level text: the decoder reads its UTF-8
          break;
        }
        data[o++] = b;
      }
    } else {
      const piece = applySteps(plan.steps, token, 1);
      const b = plan.byteFallback ? fallbackByte(piece) : -1;
      if (b >= 0) {
        ensure(1);
        data[o++] = b;
      } else putUtf8(piece);
    }
  }
  offsets[n] = o;
  return { data: data.slice(0, o), offsets };
}
