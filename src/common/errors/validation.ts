import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ErrorDetail } from './app.exception';

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

export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    // A non-object body (e.g. `[]` or `"x"`) must be a 400, not a crash inside a handler.
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => new RequestValidationError(flattenValidationErrors(errors)),
  });
}
