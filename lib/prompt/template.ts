/**
 * A model's own chat template, rendered exactly as transformers' `apply_chat_template(...,
 * tokenize=False)` renders it (transformers 5.x: tokenization_utils_base.py and
 * utils/chat_template_utils.py).
 *
 * @example
 * ```ts
 * const template = await ChatTemplate.fromDir('/models/xLAM-2-1b-fc-r');
 * const text = template.render({ messages: [{ role: 'user', content: 'Hi' }], addGenerationPrompt: true });
 * ```
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { XlamInvalidArgumentError, XlamModelFormatError } from '../errors.js';
import { XlamTemplateError } from './errors.js';
import { JinjaTemplate, type JinjaRenderOptions } from './jinja/template.js';
import { prepareMessages, toPyData, validateMessages } from './messages.js';
import type { ChatMessage } from './types.js';

/** The special tokens transformers passes to every template (those that are set). */
export const SPECIAL_TOKEN_NAMES = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;
export type SpecialTokenName = (typeof SPECIAL_TOKEN_NAMES)[number];
export type SpecialTokens = Partial<Record<SpecialTokenName, string>>;

/** Options of {@link ChatTemplate.render}. */
export interface ChatTemplateRenderOptions {
  /** The conversation (validated; see `validateMessages`). */
  messages: readonly ChatMessage[];
  /**
   * Tools as JSON schemas, passed to the template as given (transformers passes each tool
   * dict unchanged: an OpenAI-shaped tool is the whole `{type: 'function', function: {...}}`).
   * Absent or null: the template sees `tools = None`.
   */
  tools?: readonly unknown[] | null;
  /** RAG documents, passed as `documents` (None when absent). */
  documents?: readonly unknown[] | null;
  /** Append the assistant header (`add_generation_prompt`). Defaults to false, as in transformers. */
  addGenerationPrompt?: boolean;
  /** For a model with several templates: the one to use (default: `tool_use` with tools, else `default`). */
  templateName?: string;
  /** Extra template variables (`enable_thinking`, `date_string`, …); they override special tokens. */
  context?: Record<string, unknown>;
  /** The clock of `strftime_now`. */
  now?: JinjaRenderOptions['now'];
  /** Limits of the render (see `TemplateBudget`). */
  budget?: JinjaRenderOptions['budget'];
}

const RESERVED = new Set(['messages', 'tools', 'documents', 'add_generation_prompt']);

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/** The special tokens of a tokenizer_config.json (strings or AddedToken dicts; null ones left out). */
export function specialTokensOf(config: Record<string, unknown>): SpecialTokens {
  const out: SpecialTokens = {};
  for (const k of SPECIAL_TOKEN_NAMES) {
    const t = tokenText(config[k]);
    if (t !== undefined) out[k] = t;
  }
  return out;
}

function readJson(file: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new XlamModelFormatError('BAD_CONFIG', `${file}: ${(err as Error).message}`, file);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new XlamModelFormatError('BAD_CONFIG', `${file}: not a JSON object`, file);
  return data as Record<string, unknown>;
}

/** A model's chat template(s) and the special tokens rendered with them. */
export class ChatTemplate {
  /** The template sources by name; a single template is named `default`. */
  readonly templates: ReadonlyMap<string, string>;
  /** Whether the model has several named templates (transformers' dict form). */
  readonly named: boolean;
  readonly specialTokens: Readonly<SpecialTokens>;
  private readonly compiled = new Map<string, JinjaTemplate>();

  /**
   * @param source one template, a `{name: template}` map, or tokenizer_config.json's list form
   *   `[{name, template}, …]`.
   * @param specialTokens `bos_token`, `eos_token`, … as the template should see them.
   */
  constructor(source: string | Record<string, string> | ReadonlyArray<{ name: string; template: string }>, specialTokens: SpecialTokens = {}) {
    if (typeof source === 'string') {
      this.templates = new Map([['default', source]]);
      this.named = false;
    } else if (Array.isArray(source)) {
      this.templates = new Map(source.map((t) => [t.name, t.template]));
      this.named = true;
    } else {
      this.templates = new Map(Object.entries(source as Record<string, string>));
      this.named = true;
    }
    for (const [name, t] of this.templates) {
      if (typeof t !== 'string') throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `chat template '${name}' is not a string`);
    }
    this.specialTokens = Object.freeze({ ...specialTokens });
  }

  /**
   * The chat template of a tokenizer_config.json object (its `chat_template`, a string or a list
   * of `{name, template}`), with its special tokens. Throws `NO_CHAT_TEMPLATE` when it has none.
   */
  static fromTokenizerConfig(config: Record<string, unknown>): ChatTemplate {
    const t = config['chat_template'];
    if (t === undefined || t === null) throw new XlamTemplateError('NO_CHAT_TEMPLATE', 'the tokenizer config has no chat_template');
    if (typeof t !== 'string' && !Array.isArray(t)) throw new XlamTemplateError('NO_CHAT_TEMPLATE', 'chat_template must be a string or a list of {name, template}');
    return new ChatTemplate(t as string, specialTokensOf(config));
  }

  /**
   * Loads a model folder's template as transformers does: `chat_template.jinja` and
   * `additional_chat_templates/*.jinja` take priority over tokenizer_config.json's
   * `chat_template`; special tokens come from tokenizer_config.json (and the legacy
   * special_tokens_map.json when the config has no `added_tokens_decoder`). Throws
   * {@link XlamTemplateError} `NO_CHAT_TEMPLATE` when there is none, `XlamModelFormatError` for
   * a missing folder or unreadable config.
   */
  static async fromDir(dir: string): Promise<ChatTemplate> {
    return ChatTemplate.fromDirSync(dir);
  }

  /** {@link ChatTemplate.fromDir}, synchronously. */
  static fromDirSync(dir: string): ChatTemplate {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new XlamModelFormatError('MODEL_NOT_FOUND', `model folder not found: ${dir}`, dir);
    }
    const configFile = join(dir, 'tokenizer_config.json');
    const config = existsSync(configFile) ? readJson(configFile) : {};
    const specials = specialTokensOf(config);
    const mapFile = join(dir, 'special_tokens_map.json');
    if (!('added_tokens_decoder' in config) && existsSync(mapFile)) Object.assign(specials, specialTokensOf(readJson(mapFile)));

    const files: Record<string, string> = {};
    const main = join(dir, 'chat_template.jinja');
    if (existsSync(main)) files['default'] = readFileSync(main, 'utf8');
    const extra = join(dir, 'additional_chat_templates');
    if (existsSync(extra) && statSync(extra).isDirectory()) {
      for (const f of readdirSync(extra).filter((f) => f.endsWith('.jinja')).sort()) {
        files[f.slice(0, -'.jinja'.length)] = readFileSync(join(extra, f), 'utf8');
      }
    }
    const names = Object.keys(files);
    if (names.length === 1 && names[0] === 'default') return new ChatTemplate(files['default']!, specials);
    if (names.length > 0) return new ChatTemplate(files, specials);
    const t = config['chat_template'];
    if (t === undefined || t === null) {
      throw new XlamTemplateError('NO_CHAT_TEMPLATE', `${dir} has no chat template (no chat_template.jinja, no chat_template in tokenizer_config.json)`);
    }
    if (typeof t !== 'string' && !Array.isArray(t)) {
      throw new XlamModelFormatError('BAD_CONFIG', 'tokenizer_config.json: chat_template must be a string or a list of {name, template}', configFile);
    }
    return new ChatTemplate(t as string | Array<{ name: string; template: string }>, specials);
  }

  /**
   * The template source to use, chosen as transformers' `get_chat_template` chooses: a named
   * template when asked for; otherwise, for a model with several, `tool_use` when tools are given
   * and it exists, else `default`.
   */
  source(options: { templateName?: string; hasTools?: boolean } = {}): string {
    const { templateName, hasTools = false } = options;
    if (this.named) {
      if (templateName !== undefined) {
        const t = this.templates.get(templateName);
        if (t === undefined) {
          throw new XlamTemplateError('NO_CHAT_TEMPLATE', `no chat template named '${templateName}' (have: ${[...this.templates.keys()].sort().join(', ')})`);
        }
        return t;
      }
      if (hasTools && this.templates.has('tool_use')) return this.templates.get('tool_use')!;
      if (this.templates.has('default')) return this.templates.get('default')!;
      throw new XlamTemplateError('NO_CHAT_TEMPLATE',
        `this model has several chat templates and none is named 'default': pick one of ${[...this.templates.keys()].sort().join(', ')}`);
    }
    if (templateName !== undefined && templateName !== 'default') {
      throw new XlamTemplateError('NO_CHAT_TEMPLATE', `no chat template named '${templateName}' (the model has one template)`);
    }
    return this.templates.get('default')!;
  }

  /**
   * Parses every template now (a model's templates are parsed when its engine loads). Throws
   * {@link XlamTemplateError} `TEMPLATE_SYNTAX` or `TEMPLATE_TOO_LARGE`, naming the template
   * when the model has several.
   */
  compileAll(): void {
    for (const [name, source] of this.templates) {
      try {
        this.compile(source);
      } catch (err) {
        if (!this.named || !(err instanceof XlamTemplateError)) throw err;
        throw new XlamTemplateError(err.code, `chat template '${name}': ${err.message}`, { cause: err });
      }
    }
  }

  private compile(source: string): JinjaTemplate {
    let t = this.compiled.get(source);
    if (!t) {
      t = new JinjaTemplate(source);
      this.compiled.set(source, t);
    }
    return t;
  }

  /**
   * Renders the conversation: the template receives `messages` (as given, except that
   * assistant tool-call `arguments` JSON strings are parsed to objects, as vLLM does), `tools`,
   * `documents`, `add_generation_prompt`, the special tokens and `context`.
   */
  render(options: ChatTemplateRenderOptions): string {
    const messages = prepareMessages(validateMessages(options.messages));
    if (options.tools != null && !Array.isArray(options.tools)) {
      throw new XlamInvalidArgumentError('INVALID_ARGUMENT', 'tools must be an array of JSON schemas');
    }
    for (const k of Object.keys(options.context ?? {})) {
      if (RESERVED.has(k)) throw new XlamInvalidArgumentError('INVALID_ARGUMENT', `context cannot set '${k}': pass it as its own option`);
    }
    const source = this.source({ templateName: options.templateName, hasTools: options.tools != null });
    return this.compile(source).render(
      {
        ...this.specialTokens,
        ...options.context,
        messages,
        tools: options.tools == null ? null : toPyData(options.tools),
        documents: options.documents == null ? null : toPyData(options.documents),
        add_generation_prompt: options.addGenerationPrompt ?? false,
      },
      { now: options.now, budget: options.budget },
    );
  }
}
