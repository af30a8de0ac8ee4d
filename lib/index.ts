export { Engine, LoadOptionsSchema, GenerateTokensOptionsSchema } from './engine.js';
export type { LoadOptions, GenerateTokensOptions, GenerateTokensResult, TopLogprobs, EngineInfo, EngineStats, CallToolsOptions, CallToolsResult, RenderedPrompt } from './engine.js';
export { GenerateRequestSchema } from './serving/request.js';
export { REQUEST_LIMITS } from './serving/limits.js';
export type { GenerateRequest, GenerateResult, Usage, FinishReason, ToolChoice } from './serving/request.js';
export type { StreamEvent } from './serving/stream-events.js';
export {
  XlamError,
  XlamModelFormatError,
  XlamInvalidArgumentError,
  XlamContextOverflowError,
  XlamEngineClosedError,
  XlamAbortError,
  XlamOutOfMemoryError,
  XlamBackendUnavailableError,
  XlamInternalError,
  XlamLoadError,
  XlamOverloadedError,
} from './errors.js';
export { tool } from './tools/tool.js';
export type { ZodTool, ZodToolSpec, ZodObjectLike } from './tools/tool.js';
export { normalizeTools } from './tools/normalize.js';
export type { FunctionSpec, OpenAITool, ToolInput, ToolName, ToolArgs, NormalizedTool, NormalizedTools, JsonObject } from './tools/normalize.js';
export { TOOL_NAME_PATTERN } from './tools/names.js';
export { bfclToTools, GORILLA_TO_OPENAPI } from './tools/bfcl.js';
export { bfclLanguage } from './tools/bfcl-hints.js';
export type { BfclFunctionDoc, BfclParameter, BfclToToolsOptions } from './tools/bfcl.js';
export type { BfclLanguage } from './tools/bfcl-hints.js';
export type { ToolDefinition, JsonSchema } from './tools/types.js';
export { parseToolCalls } from './parse/parse.js';
export { ToolCallStreamParser } from './parse/stream.js';
export { parseJson, stringifyJson, JsonNumber } from './parse/json.js';
export type { LosslessJsonValue, ParseJsonOptions } from './parse/json.js';
export type {
  ToolCall,
  ValidToolCall,
  InvalidToolCall,
  ValidToolCallOf,
  ToolCallError,
  ToolCallErrorCode,
  ToolCallFormat,
  ParseResult,
  ParseToolCallsOptions,
  ToolCallStreamEvent,
  TextEvent,
  ToolCallStartEvent,
  ToolCallDeltaEvent,
  ToolCallEndEvent,
} from './parse/types.js';
export { Tokenizer } from './tokenizer/tokenizer.js';
export { IncrementalDetokenizer } from './tokenizer/detokenizer.js';
export type { AddedTokenInfo, EncodeOptions, DecodeOptions } from './tokenizer/types.js';
export type { TokenizerClass } from './tokenizer/transformers-compat.js';
export type { TokenBytesTable } from './tokenizer/token-bytes.js';
export type { ChatMessage, ChatToolCall, SystemMessage, UserMessage, AssistantMessage, ToolMessage, JsonValue } from './prompt/types.js';
export { ChatTemplate, specialTokensOf, SPECIAL_TOKEN_NAMES } from './prompt/template.js';
export type { ChatTemplateRenderOptions, SpecialTokens, SpecialTokenName } from './prompt/template.js';
export { renderPrompt, PromptRenderer, PROMPT_FORMATS } from './prompt/formats/index.js';
export type { RenderPromptOptions, PromptRendererOptions, PromptFormat, Xlam1Options } from './prompt/formats/index.js';
export { detectPromptFormat, detectPromptFormatOfDir } from './prompt/formats/detect.js';
export type { DetectedFormat, FormatHints } from './prompt/formats/detect.js';
export { buildXlam1FcContent } from './prompt/formats/xlam1-fc.js';
export { buildXlam1RContent } from './prompt/formats/xlam1-r.js';
export { toTemplateTool, toXlamTool } from './prompt/formats/tools.js';
export {
  XLAM1_FC_TASK_INSTRUCTION,
  XLAM1_FC_FORMAT_INSTRUCTION,
  XLAM1_R_TASK_INSTRUCTION,
  XLAM1_R_FORMAT_INSTRUCTION,
} from './prompt/formats/xlam1-instructions.js';
export { validateMessages, prepareMessages, ChatMessageSchema, ChatMessagesSchema, ChatToolCallSchema } from './prompt/messages.js';
export { JinjaTemplate } from './prompt/jinja/template.js';
export type { JinjaRenderOptions } from './prompt/jinja/template.js';
export { DEFAULT_TEMPLATE_BUDGET, MAX_TEMPLATE_SOURCE_CHARS } from './prompt/jinja/budget.js';
export type { TemplateBudget } from './prompt/jinja/budget.js';
export { ControlTokenText, renderGuarded } from './prompt/caller-text.js';
export type { GuardedPrompt, SpecialTokenTextMode, CallerData } from './prompt/caller-text.js';
export { PyFloat, pyJsonDumps, pyJsonLoads } from './prompt/jinja/python.js';
export type { PyData, JsonDumpsOptions } from './prompt/jinja/python.js';
export { XlamTemplateError } from './prompt/errors.js';
export {
  parseGbnf,
  printGbnf,
  GbnfSyntaxError,
  compileGrammar,
  createMatcher,
  matches,
  acceptsPrefix,
  matchPrefix,
  jsonSchemaToGrammar,
  toolCallGrammar,
} from './grammar/index.js';
export type {
  GbnfGrammar,
  GbnfRule,
  GbnfExpr,
  CompiledGrammar,
  GrammarMatcher,
  MatcherOptions,
  SchemaGrammarOptions,
  ToolCallGrammarFormat,
  ToolCallGrammarOptions,
  GrammarToolChoice,
} from './grammar/index.js';
