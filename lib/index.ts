export { Engine, LoadOptionsSchema, GenerateTokensOptionsSchema } from './engine.js';
export type { LoadOptions, GenerateTokensOptions, GenerateTokensResult, TopLogprobs, EngineInfo } from './engine.js';
export {
  XlamError,
  XlamModelFormatError,
  XlamInvalidArgumentError,
  XlamContextOverflowError,
  XlamEngineClosedError,
  XlamOutOfMemoryError,
  XlamInternalError,
  XlamLoadError,
} from './errors.js';
