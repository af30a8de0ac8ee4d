/** Errors as data across the worker boundary, and back to the same typed classes. */
import {
  XlamError, XlamInternalError, XlamInvalidArgumentError, XlamModelFormatError,
} from '../../errors.js';
import { XlamTemplateError } from '../errors.js';

export interface ErrorData {
  name: string;
  code?: string;
  message: string;
  field?: string;
  file?: string;
  tensor?: string;
}

export function errorToData(err: unknown): ErrorData {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const e = err as Error & Partial<Record<'code' | 'field' | 'file' | 'tensor', unknown>>;
  const s = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return { name: e.name, code: s(e.code), message: e.message, field: s(e.field), file: s(e.file), tensor: s(e.tensor) };
}

/** The typed error an {@link ErrorData} stands for; an untyped one is a bug: `XlamInternalError`. */
export function errorFromData(d: ErrorData): XlamError {
  switch (d.name) {
    case 'XlamTemplateError': return new XlamTemplateError(d.code ?? 'TEMPLATE_RENDER', d.message);
    case 'XlamInvalidArgumentError': return new XlamInvalidArgumentError(d.code ?? 'INVALID_ARGUMENT', d.message, { field: d.field });
    case 'XlamModelFormatError': return new XlamModelFormatError(d.code ?? 'BAD_CONFIG', d.message, d.file, d.tensor);
    default: return new XlamInternalError('INTERNAL', `prompt rendering failed: ${d.name}: ${d.message}`);
  }
}
