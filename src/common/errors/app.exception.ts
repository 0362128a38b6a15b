import { HttpStatus } from '@nestjs/common';

export interface ErrorDetail {
  field: string;
  rule: string;
  message: string;
}

// A REST error with a stable code (e.g. PAGE.NOT_FOUND); mapped to `{statusCode, code, message, details?, requestId}`.
export class AppException extends Error {
  constructor(
    readonly status: HttpStatus,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const notFound = (code: string, message: string) => new AppException(HttpStatus.NOT_FOUND, code, message);
export const forbidden = (code: string, message: string) => new AppException(HttpStatus.FORBIDDEN, code, message);
export const conflict = (code: string, message: string) => new AppException(HttpStatus.CONFLICT, code, message);
export const badRequest = (code: string, message: string, details?: ErrorDetail[]) =>
  new AppException(HttpStatus.BAD_REQUEST, code, message, details);
export const unauthorized = (message = 'Authentication required') =>
  new AppException(HttpStatus.UNAUTHORIZED, 'AUTH.UNAUTHENTICATED', message);
