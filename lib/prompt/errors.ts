/**
 * Errors of the prompt layer: chat-template failures. Bad messages, tools or options raise
 * {@link XlamInvalidArgumentError} (code `INVALID_ARGUMENT`) instead.
 */
import { XlamError } from '../errors.js';

/**
 * A chat template could not be found, parsed or rendered. `code` is one of:
 * - `NO_CHAT_TEMPLATE`: the model folder has no chat template (or not the one asked for);
 * - `TEMPLATE_SYNTAX`: the template does not parse;
 * - `TEMPLATE_TOO_LARGE`: the template source is over 1 MiB (`MAX_TEMPLATE_SOURCE_CHARS`);
 * - `TEMPLATE_RAISE`: the template called `raise_exception(message)`; `message` is its text;
 * - `TEMPLATE_BUDGET`: the render exceeded its budget (evaluation steps, `range` length, macro
 *   call depth, output size, wall time or the sandbox worker's memory; see `TemplateBudget`);
 * - `TEMPLATE_RENDER`: rendering failed as it does in Python Jinja2 (an undefined value used,
 *   a type error, a construct this renderer does not support).
 */
export class XlamTemplateError extends XlamError {}
