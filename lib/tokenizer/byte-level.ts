/**
 * The GPT-2 byte-level alphabet: every byte 0..255 is written as one printable character so that
 * byte-level BPE vocabularies are plain strings ("Ġ" is the space byte 0x20, "Ċ" is "\n").
 */

/** BYTE_TO_CHAR[b] is the character that stands for byte b. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const out = new Array<string>(256);
  for (const b of printable) out[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (out[b] === undefined) out[b] = String.fromCharCode(256 + n++);
  return out;
})();

/** CHAR_TO_BYTE[charCode] is the byte a byte-level character stands for, or -1. */
export const CHAR_TO_BYTE: Int16Array = (() => {
  const table = new Int16Array(0x180).fill(-1);
  BYTE_TO_CHAR.forEach((c, b) => (table[c.charCodeAt(0)] = b));
  return table;
})();

/**
 * The bytes a byte-level vocabulary string stands for, as the Rust `tokenizers` ByteLevel decoder
 * reads it: each character mapped back to its byte, or — when any character is outside the
 * alphabet (an added token such as "café x") — the UTF-8 bytes of the string itself.
 */
export function byteLevelBytes(token: string, utf8: TextEncoder): Uint8Array {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    const b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c]! : -1;
    if (b < 0) return utf8.encode(token);
    out[i] = b;
  }
  return out;
}
