import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { ErrorDetail } from './app.exception';
import { MAX_BODY_DEPTH, tooDeeplyNested } from './nesting-depth';
import { UNSTORABLE_TEXT_PHRASE, unstorableTextPath } from '../../../libs/templates';

// Flattens nested class-validator errors into `path.to.field` entries, one per failed rule.
export function flattenValidationErrors(errors: ValidationError[], parent = ''): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    for (const [rule, message] of Object.entries(e.constraints ?? {})) out.push({ field, rule, message });
    if (e.children?.length) out.push(...flattenValidationErrors(e.children, field));
  }
  return out;
}

export class RequestValidationError extends Error {
  constructor(readonly details: ErrorDetail[]) {
    super(details.map((d) => d.message).join('; ') || 'Invalid request');
  }
}

// What class-transformer is about to turn into a DTO is checked first for nesting it would overflow the stack on
// (nesting-depth.ts). Only bodies and queries with a DTO type: they are plain JSON, where custom decorators hand in
// request objects and principals, and a plain-object type is passed through untouched.
// DTO bodies and queries, and every path parameter, are checked for text Postgres cannot store
// (libs/templates/storable-text.ts). The Graph routes' untyped params are checked by parseGraphParams, once their
// JSON strings are decoded; a gateway's frames (untyped too) where they are validated. Not here for those: a refusal
// in a gateway's global pipe is never answered.
class RequestValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if ((metadata.type === 'body' || metadata.type === 'query' || metadata.type === 'custom') && this.toValidate(metadata)) {
      const field = tooDeeplyNested(value);
      if (field) throw new RequestValidationError([{ field, rule: 'maxDepth', message: `${field} must not be nested more than ${MAX_BODY_DEPTH} levels deep` }]);
      assertStorableText(value, metadata.type);
    } else if (metadata.type === 'param') {
      assertStorableText(value, metadata.data ?? 'param');
    }
    return super.transform(value, metadata);
  }
}

export function assertStorableText(value: unknown, root: string): void {
  const path = unstorableTextPath(value);
  if (!path) return;
  const field = path.reduce<string>((at, p) => (typeof p === 'number' ? `${at}[${p}]` : at ? `${at}.${p}` : p), '') || root;
  throw new RequestValidationError([{ field, rule: 'storableText', message: `${field} ${UNSTORABLE_TEXT_PHRASE}` }]);
}

// `validateCustomDecorators`: for a pipe handed to a param decorator that builds a DTO's input itself
// (GraphParams); the global pipe leaves such params alone. `dropUnknown`: unknown fields are dropped, not refused,
// for input a third party writes (a login page's redirect may carry its own params).
export function createValidationPipe(opts: { validateCustomDecorators?: boolean; dropUnknown?: boolean } = {}): ValidationPipe {
  return new RequestValidationPipe({
    validateCustomDecorators: opts.validateCustomDecorators ?? false,
    whitelist: true,
    forbidNonWhitelisted: !opts.dropUnknown,
    transform: true,
    // A non-object body (e.g. `[]` or `"x"`) must be a 400, not a crash inside a handler.
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}
