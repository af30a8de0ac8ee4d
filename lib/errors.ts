/**
 * Typed errors. Every error the engine raises is an {@link XlamError} with a stable `code`;
 * the subclass tells the kind of failure.
 */

/** Base class of every xlam-engine error. `code` is stable across releases. */
export class XlamError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A model folder or file is missing, malformed or unsupported. `file` names the file and
 * `tensor` the tensor concerned, where there is one.
 */
export class XlamModelFormatError extends XlamError {
  readonly file: string | undefined;
  readonly tensor: string | undefined;
  constructor(code: string, message: string, file?: string, tensor?: string) {
    super(code, message);
    this.file = file;
    this.tensor = tensor;
  }
}

/**
 * A request or option is invalid (wrong type, out of range, over a limit, token id outside the
 * vocabulary). `field` is the path of the offending value where it is known, such as
 * `request.temperature` or `request.messages[2].content`.
 */
export class XlamInvalidArgumentError extends XlamError {
  readonly field: string | undefined;
  constructor(code: string, message: string, options?: { field?: string; cause?: unknown }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.field = options?.field;
  }
}

/**
 * The engine's queue is full (`maxQueuedRequests` waiting on top of `maxSequences` running):
 * the request was not accepted; retry later. Code `OVERLOADED`.
 */
export class XlamOverloadedError extends XlamError {}

/** The prompt plus the tokens asked for do not fit the model's context or the KV cache. */
export class XlamContextOverflowError extends XlamError {}

/** The request was cancelled through its AbortSignal. */
export class XlamAbortError extends XlamError {}

/** The engine was closed before or while the call ran. */
export class XlamEngineClosedError extends XlamError {}

/** Memory could not be allocated; the engine and the process live on. */
export class XlamOutOfMemoryError extends XlamError {}

/** The native engine failed in a way no input should cause (a bug: please report it). */
export class XlamInternalError extends XlamError {}

/**
 * The backend asked for cannot run on this machine: `'cuda'` without an NVIDIA driver, a device
 * of compute capability 7.5 or newer, or the CUDA library next to the addon. The message says
 * which. (`backend: 'auto'` falls back to the CPU instead and says why in `engine.info()`.)
 */
export class XlamBackendUnavailableError extends XlamError {}

/** The native addon could not be loaded. The message says how to fix it. */
export class XlamLoadError extends XlamError {}

const MODEL_FORMAT_CODES = new Set([
  'MODEL_NOT_FOUND', 'IO', 'BAD_CONFIG', 'UNKNOWN_MODEL_TYPE', 'TRUNCATED', 'HEADER_TOO_LARGE',
  'BAD_HEADER', 'DUPLICATE_KEY', 'BAD_DTYPE', 'BAD_OFFSET', 'INCOMPLETE_BUFFER', 'OVERFLOW',
  'BAD_TENSOR_INFO', 'MISALIGNED_SLICE', 'UNSUPPORTED_DTYPE', 'BAD_SHARD_PATH', 'BAD_INDEX',
  'MISSING_TENSOR', 'SHAPE_MISMATCH',
]);

/** Turns an error thrown by the native addon (a plain Error with `code`) into a typed error. */
export function fromNative(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { code?: unknown; file?: unknown; tensor?: unknown };
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code === undefined) return err;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  if (MODEL_FORMAT_CODES.has(code)) {
    const file = str(e.file);
    const where = file && !e.message.includes(file) ? ` (in ${file})` : '';
    return new XlamModelFormatError(code, e.message + where, file, str(e.tensor));
  }
  switch (code) {
    case 'INVALID_ARGUMENT': return new XlamInvalidArgumentError(code, e.message);
    case 'CONTEXT_OVERFLOW': return new XlamContextOverflowError(code, e.message);
    case 'ENGINE_CLOSED': return new XlamEngineClosedError(code, e.message);
    case 'ABORTED': return new XlamAbortError(code, e.message);
    case 'OUT_OF_MEMORY': return new XlamOutOfMemoryError(code, e.message);
    case 'BACKEND_UNAVAILABLE': return new XlamBackendUnavailableError(code, e.message);
    default: return new XlamInternalError(code, e.message);
  }
}
