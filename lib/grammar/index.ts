/**
 * Grammars for constrained tool calls: the GBNF IR (print, parse), JSON Schema → grammar, the
 * tool-call envelopes, and the reference recognizer the native matcher is checked against.
 */
export { lit, ref, charClass, repeat, opt, star, seq, alt, empty, GBNF_NAME_PATTERN } from './gbnf.js';
export type { GbnfGrammar, GbnfRule, GbnfExpr, GbnfLiteral, GbnfClass, GbnfRef, GbnfSeq, GbnfAlt, GbnfRepeat } from './gbnf.js';
export { printGbnf, printGbnfExpr } from './gbnf-print.js';
export { parseGbnf, GbnfSyntaxError } from './gbnf-parse.js';
export { compileGrammar } from './compile.js';
export type { CompiledGrammar } from './compile.js';
export { toByteGrammar, BYTE_END, BYTE_SET, BYTE_REF } from './bytes.js';
export type { ByteGrammar } from './bytes.js';
export { createMatcher, matchPrefix, matches, acceptsPrefix } from './match.js';
export type { GrammarMatcher, MatcherOptions } from './match.js';
export { jsonSchemaToGrammar, SchemaConverter, MAX_COUNT } from './schema.js';
export type { SchemaGrammarOptions } from './schema.js';
export { patternToGrammar } from './regex.js';
export { FORMATS as STRING_FORMATS } from './json-rules.js';
export { toolCallGrammar } from './envelope.js';
export type { ToolCallGrammarFormat, GrammarToolChoice, ToolCallGrammarOptions } from './envelope.js';
