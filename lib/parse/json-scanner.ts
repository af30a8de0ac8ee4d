/**
 * An incremental JSON scanner: fed one UTF-16 code unit at a time, it checks the syntax of one
 * JSON value (RFC 8259: strings with escapes, nesting, number grammar, literals) and says when the
 * value is complete. It builds nothing, except — on request — the decoded text of a top-level
 * string (for keys, tool names and v1 `thought`s). The streaming tool-call parser runs one per
 * value it needs to delimit; the state is a stack of open containers plus a few counters.
 */

/** More input needed. */
export const SCAN_MORE = 0;
/** The value is complete, ending with this code unit. */
export const SCAN_DONE = 1;
/** The value (a top-level number) was complete before this code unit, which belongs to what follows. */
export const SCAN_DONE_BEFORE = 2;
/** This code unit cannot continue a JSON value. */
export const SCAN_ERROR = 3;
export type ScanResult = typeof SCAN_MORE | typeof SCAN_DONE | typeof SCAN_DONE_BEFORE | typeof SCAN_ERROR;

// States.
const VALUE = 0; // a value is expected (whitespace allowed)
const ARR_FIRST = 1; // after '[': a value or ']'
const OBJ_FIRST = 2; // after '{': a key or '}'
const OBJ_KEY = 3; // after ',' in an object: a key
const COLON = 4; // after a key: ':'
const AFTER = 5; // after a value inside a container: ',' or the closer
const STR = 6;
const STR_ESC = 7;
const STR_HEX = 8;
const NUM_MINUS = 9; // '-' read: a digit must follow
const NUM_ZERO = 10; // a leading '0' (complete)
const NUM_INT = 11; // integer digits (complete)
const NUM_DOT = 12; // '.' read: a digit must follow
const NUM_FRAC = 13; // fraction digits (complete)
const NUM_E = 14; // 'e' read: sign or digit
const NUM_E_SIGN = 15; // exponent sign read: a digit must follow
const NUM_EXP = 16; // exponent digits (complete)
const LIT = 17; // inside true / false / null

const OBJ = 0;
const ARR = 1;

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** JSON whitespace (RFC 8259: space, tab, line feed, carriage return). */
export function isJsonWs(c: string): boolean {
  return c === ' ' || c === '\n' || c === '\r' || c === '\t';
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export class JsonScanner {
  private readonly stack: number[] = [];
  private state = VALUE;
  private isKey = false;
  private hex = '';
  private lit = '';
  private litPos = 0;
  private readonly capture: boolean;
  /** The decoded content of a top-level string value so far (when built with `captureString`). */
  decoded = '';

  /** @param captureString decode a top-level string value into {@link decoded}. */
  constructor(captureString = false) {
    this.capture = captureString;
  }

  /** Feeds one UTF-16 code unit. After SCAN_DONE, SCAN_DONE_BEFORE or SCAN_ERROR, feed no more. */
  feed(c: string): ScanResult {
    switch (this.state) {
      case VALUE:
        return isJsonWs(c) ? SCAN_MORE : this.startValue(c);
      case ARR_FIRST:
        if (isJsonWs(c)) return SCAN_MORE;
        return c === ']' ? this.close() : this.startValue(c);
      case OBJ_FIRST:
      case OBJ_KEY:
        if (isJsonWs(c)) return SCAN_MORE;
        if (c === '"') {
          this.state = STR;
          this.isKey = true;
          return SCAN_MORE;
        }
        return this.state === OBJ_FIRST && c === '}' ? this.close() : SCAN_ERROR;
      case COLON:
        if (isJsonWs(c)) return SCAN_MORE;
        if (c !== ':') return SCAN_ERROR;
        this.state = VALUE;
        return SCAN_MORE;
      case AFTER: {
        if (isJsonWs(c)) return SCAN_MORE;
        const top = this.stack[this.stack.length - 1];
        if (c === ',') {
          this.state = top === OBJ ? OBJ_KEY : VALUE;
          return SCAN_MORE;
        }
        if ((c === '}' && top === OBJ) || (c === ']' && top === ARR)) return this.close();
        return SCAN_ERROR;
      }
      case STR:
        if (c === '"') {
          if (this.isKey) {
            this.isKey = false;
            this.state = COLON;
            return SCAN_MORE;
          }
          return this.valueDone();
        }
        if (c === '\\') {
          this.state = STR_ESC;
          return SCAN_MORE;
        }
        if (c < ' ') return SCAN_ERROR;
        if (this.capturing()) this.decoded += c;
        return SCAN_MORE;
      case STR_ESC:
        if (c === 'u') {
          this.hex = '';
          this.state = STR_HEX;
          return SCAN_MORE;
        }
        if (!Object.hasOwn(ESCAPES, c)) return SCAN_ERROR;
        if (this.capturing()) this.decoded += ESCAPES[c];
        this.state = STR;
        return SCAN_MORE;
      case STR_HEX:
        if (!/^[0-9a-fA-F]$/.test(c)) return SCAN_ERROR;
        this.hex += c;
        if (this.hex.length === 4) {
          if (this.capturing()) this.decoded += String.fromCharCode(parseInt(this.hex, 16));
          this.state = STR;
        }
        return SCAN_MORE;
      case NUM_MINUS:
        if (c === '0') this.state = NUM_ZERO;
        else if (isDigit(c)) this.state = NUM_INT;
        else return SCAN_ERROR;
        return SCAN_MORE;
      case NUM_ZERO:
      case NUM_INT:
        if (isDigit(c) && this.state === NUM_INT) return SCAN_MORE;
        if (c === '.') this.state = NUM_DOT;
        else if (c === 'e' || c === 'E') this.state = NUM_E;
        else return this.numberEnded(c);
        return SCAN_MORE;
      case NUM_DOT:
        if (!isDigit(c)) return SCAN_ERROR;
        this.state = NUM_FRAC;
        return SCAN_MORE;
      case NUM_FRAC:
        if (isDigit(c)) return SCAN_MORE;
        if (c === 'e' || c === 'E') {
          this.state = NUM_E;
          return SCAN_MORE;
        }
        return this.numberEnded(c);
      case NUM_E:
        if (c === '+' || c === '-') this.state = NUM_E_SIGN;
        else if (isDigit(c)) this.state = NUM_EXP;
        else return SCAN_ERROR;
        return SCAN_MORE;
      case NUM_E_SIGN:
        if (!isDigit(c)) return SCAN_ERROR;
        this.state = NUM_EXP;
        return SCAN_MORE;
      case NUM_EXP:
        return isDigit(c) ? SCAN_MORE : this.numberEnded(c);
      case LIT:
        if (c !== this.lit[this.litPos]) return SCAN_ERROR;
        if (++this.litPos === this.lit.length) return this.valueDone();
        return SCAN_MORE;
    }
    return SCAN_ERROR;
  }

  private capturing(): boolean {
    return this.capture && this.stack.length === 0;
  }

  private startValue(c: string): ScanResult {
    switch (c) {
      case '{':
        this.stack.push(OBJ);
        this.state = OBJ_FIRST;
        return SCAN_MORE;
      case '[':
        this.stack.push(ARR);
        this.state = ARR_FIRST;
        return SCAN_MORE;
      case '"':
        this.state = STR;
        this.isKey = false;
        return SCAN_MORE;
      case '-':
        this.state = NUM_MINUS;
        return SCAN_MORE;
      case 't':
      case 'f':
      case 'n':
        this.lit = c === 't' ? 'true' : c === 'f' ? 'false' : 'null';
        this.litPos = 1;
        this.state = LIT;
        return SCAN_MORE;
    }
    if (isDigit(c)) {
      this.state = c === '0' ? NUM_ZERO : NUM_INT;
      return SCAN_MORE;
    }
    return SCAN_ERROR;
  }

  private valueDone(): ScanResult {
    if (this.stack.length === 0) return SCAN_DONE;
    this.state = AFTER;
    return SCAN_MORE;
  }

  private close(): ScanResult {
    this.stack.pop();
    return this.valueDone();
  }

  /** A complete number was ended by `c`, which is handed on. */
  private numberEnded(c: string): ScanResult {
    if (this.stack.length === 0) return SCAN_DONE_BEFORE;
    this.state = AFTER;
    return this.feed(c);
  }
}
