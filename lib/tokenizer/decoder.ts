/**
 * Decoding ids to text exactly as transformers 5 does with the Rust `tokenizers` backend: the
 * tokenizer.json decoder turned into a {@link DecoderPlan} (the shapes Hugging Face checkpoints
 * use), run over whole id lists here and incrementally in detokenizer.ts.
 */
import { XlamModelFormatError } from '../errors.js';
import { byteLevelBytes } from './byte-level.js';
import { cleanUpTokenization } from './cleanup.js';

/** A per-token string rewrite of a SentencePiece-style decoder. */
export type PieceStep =
  | { type: 'replace'; pattern: string; content: string }
  /** Metaspace: the replacement character becomes a space; in the first token it is dropped. */
  | { type: 'metaspace'; replacement: string; dropInFirst: boolean };

/**
 * What the decoder does:
 * - `byte-level`: every token stands for bytes (GPT-2 alphabet); the concatenation is read as
 *   UTF-8, each invalid sequence becoming U+FFFD.
 * - `pieces`: each token is rewritten by `steps`; runs of `<0xAB>` tokens become the UTF-8 text of
 *   their bytes, or one U+FFFD per byte when the run is not valid UTF-8 (`byteFallback`); the
 *   pieces are concatenated and up to `stripStart` leading `stripContent` characters dropped.
 * - `join`: no decoder; tokens joined by spaces.
 */
export type DecoderPlan =
  | { kind: 'byte-level' }
  | { kind: 'pieces'; steps: PieceStep[]; byteFallback: boolean; stripStart: number; stripContent: string }
  | { kind: 'join' };

type Json = Record<string, unknown>;

function unsupported(what: string): never {
  throw new XlamModelFormatError('UNSUPPORTED_TOKENIZER', `tokenizer.json: unsupported decoder (${what})`, 'tokenizer.json');
}

/** Reads a tokenizer.json `decoder` into a plan, or throws UNSUPPORTED_TOKENIZER. */
export function decoderPlan(decoder: unknown): DecoderPlan {
  if (decoder === null || decoder === undefined) return { kind: 'join' };
  const d = decoder as Json;
  const list = d.type === 'Sequence' ? ((d.decoders as Json[] | undefined) ?? []) : [d];
  if (list.length === 1 && list[0]!.type === 'ByteLevel') return { kind: 'byte-level' };
  const plan = { kind: 'pieces' as const, steps: [] as PieceStep[], byteFallback: false, stripStart: 0, stripContent: ' ' };
  // The supported order: per-token rewrites, ByteFallback, Fuse, Strip (Strip only after Fuse,
  // where it acts on the whole text).
  let stage = 0;
  let fused = false;
  for (const step of list) {
    switch (step.type) {
      case 'Replace': {
        const pattern = step.pattern as Json | undefined;
        if (stage > 0 || typeof pattern?.String !== 'string' || typeof step.content !== 'string') unsupported('Replace');
        plan.steps.push({ type: 'replace', pattern: pattern.String as string, content: step.content });
        break;
      }
      case 'Metaspace': {
        if (stage > 0) unsupported('Metaspace after ByteFallback/Fuse');
        const scheme = step.prepend_scheme ?? (step.add_prefix_space === false ? 'never' : 'always');
        const replacement = typeof step.replacement === 'string' ? step.replacement : '\u2581';
        plan.steps.push({ type: 'metaspace', replacement, dropInFirst: scheme !== 'never' });
        break;
      }
      case 'ByteFallback':
        if (stage > 0) unsupported('ByteFallback after Fuse');
        plan.byteFallback = true;
        stage = 1;
        break;
      case 'Fuse':
        fused = true;
        stage = 2;
        break;
      case 'Strip': {
        if (!fused || plan.stripStart > 0) unsupported('Strip without Fuse');
        if (Number(step.stop ?? 0) !== 0) unsupported('Strip with stop');
        const content = String(step.content ?? ' ');
        if ([...content].length !== 1) unsupported('Strip content');
        plan.stripStart = Number(step.start ?? 0);
        plan.stripContent = content;
        stage = 3;
        break;
      }
      default:
        unsupported(String(step.type));
    }
  }
  return plan;
}

/** Applies the per-token rewrites of a `pieces` plan to token number `index` of the list. */
export function applySteps(steps: readonly PieceStep[], token: string, index: number): string {
  for (const s of steps) {
    if (s.type === 'replace') token = token.split(s.pattern).join(s.content);
    else token = token.split(s.replacement).join(index === 0 && s.dropInFirst ? '' : ' ');
  }
  return token;
}

/** The byte of a `<0xAB>` token (after the rewrites), as Rust's ByteFallback reads it, or -1. */
export function fallbackByte(piece: string): number {
  if (piece.length !== 6 || !piece.startsWith('<0x') || piece[5] !== '>') return -1;
  const hex = piece.slice(3, 5);
  return /^[0-9a-fA-F]{2}$/.test(hex) ? parseInt(hex, 16) : -1;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A finished byte-fallback run: its text, or one U+FFFD per byte when it is not valid UTF-8. */
export function byteRunText(bytes: readonly number[]): string {
  try {
    return strictUtf8.decode(new Uint8Array(bytes));
  } catch {
    return '\uFFFD'.repeat(bytes.length);
  }
}

/** Strips up to `n` leading `content` characters (Rust's Strip decoder, start side). */
export function stripStart(text: string, content: string, n: number): string {
  let k = 0;
  for (let i = 0; i < n && text.startsWith(content, k); i++) k += content.length;
  return text.slice(k);
}

/** The tables a decode needs: id -> token string, special flags, the plan, the clean-up rule. */
export interface DecodeTables {
  plan: DecoderPlan;
  /** The token string of every id (undefined: not in the vocabulary). */
  tokens: ReadonlyArray<string | undefined>;
  /** 1 for special added tokens. */
  special: Uint8Array;
  /** Whether transformers applies clean_up_tokenization to this tokenizer's output. */
  cleanUp: boolean;
}

/** The token strings `decode` sees: ids outside the vocabulary dropped, specials if asked. */
export function decodedTokens(t: DecodeTables, ids: readonly number[], skipSpecial: boolean): string[] {
  const out: string[] = [];
  for (const id of ids) {
    const token = t.tokens[id];
    if (token === undefined || (skipSpecial && t.special[id] === 1)) continue;
    out.push(token);
  }
  return out;
}

const utf8 = new TextEncoder();

/** transformers' `decode(ids, skip_special_tokens)`: the whole list at once. */
export function decodeAll(t: DecodeTables, ids: readonly number[], skipSpecial: boolean): string {
  const tokens = decodedTokens(t, ids, skipSpecial);
  let text: string;
  const plan = t.plan;
  if (plan.kind === 'byte-level') {
    const parts = tokens.map((tok) => byteLevelBytes(tok, utf8));
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(all);
  } else if (plan.kind === 'pieces') {
    const out: string[] = [];
    let run: number[] = [];
    tokens.forEach((tok, i) => {
      const piece = applySteps(plan.steps, tok, i);
      const b = plan.byteFallback ? fallbackByte(piece) : -1;
      if (b >= 0) {
        run.push(b);
        return;
      }
      if (run.length > 0) out.push(byteRunText(run));
      run = [];
      out.push(piece);
    });
    if (run.length > 0) out.push(byteRunText(run));
    text = stripStart(out.join(''), plan.stripContent, plan.stripStart);
  } else {
    text = tokens.join(' ');
  }
  return t.cleanUp ? cleanUpTokenization(text) : text;
}
