import { HttpStatus } from '@nestjs/common';
import { SafeHttpError } from '../../libs/safe-http';
import { AppException, badRequest, forbidden, notFound } from '../common/errors/app.exception';
import { malformedMultipartReason } from './malformed-multipart';
import { MediaError, MediaErrorCode } from './processing';

// Every media refusal mapped to HTTP in one place.
export const MediaErrors = {
  notFound: (id: string) => notFound('MEDIA.NOT_FOUND', `No media ${id}`),
  forbidden: (why: 'expired' | 'bad_signature') =>
    forbidden(why === 'expired' ? 'MEDIA.URL_EXPIRED' : 'MEDIA.URL_FORGED', why === 'expired' ? 'This media URL has expired' : 'This media URL is not valid'),
  notMultipart: () => badRequest('MEDIA.NOT_MULTIPART', 'Send the file as multipart/form-data in a field named "file"'),
  malformedMultipart: (reason: string) => badRequest('MEDIA.MALFORMED_MULTIPART', `The body is not well-formed multipart/form-data: ${reason}`),
  unknownAttachment: (ids: string[]) => badRequest('MEDIA.UNKNOWN_ATTACHMENT', `Not attachments of this thread: ${ids.slice(0, 5).join(', ')}`),
  // Graph's wording; the Send API and the Attachment Upload API answer it as code 100, subcode 2018008.
  fetchFailed: (detail: string) => badRequest('MEDIA.URL_FETCH_FAILED', `Failed to fetch the file from the url (${detail})`),
  rangeNotSatisfiable: (size: number) =>
    new AppException(HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE, 'MEDIA.RANGE_NOT_SATISFIABLE', 'Range not satisfiable', undefined, { 'content-range': `bytes */${size}` }),
};

export function toHttpError(err: unknown, maxBytes?: number): unknown {
  if (err instanceof MediaError) {
    switch (err.code) {
      case MediaErrorCode.TooLarge:
        return new AppException(HttpStatus.PAYLOAD_TOO_LARGE, 'MEDIA.TOO_LARGE', (err.limit ?? maxBytes) ? `The file is larger than ${err.limit ?? maxBytes} bytes` : err.reason);
      case MediaErrorCode.TypeMismatch:
        return badRequest('MEDIA.TYPE_MISMATCH', err.reason);
      case MediaErrorCode.CorruptImage:
        return badRequest('MEDIA.CORRUPT_IMAGE', err.reason);
      case MediaErrorCode.UnsupportedImage:
        return new AppException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'MEDIA.UNSUPPORTED_IMAGE', err.reason);
      case MediaErrorCode.NotFound:
        return notFound('MEDIA.NOT_FOUND', 'No such media');
      default:
        return err;
    }
  }
  if (err instanceof SafeHttpError) {
    if (err.code === 'body_too_large')
      return new AppException(HttpStatus.PAYLOAD_TOO_LARGE, 'MEDIA.TOO_LARGE', maxBytes ? `The file is larger than ${maxBytes} bytes` : err.message);
    if (err.code === 'ssrf_blocked' || err.code === 'invalid_url')
      return badRequest('MEDIA.URL_REFUSED', `The URL is not allowed: ${err.reason ?? err.code}`);
    return MediaErrors.fetchFailed(err.message);
  }
  const malformed = malformedMultipartReason(err);
  if (malformed) return MediaErrors.malformedMultipart(malformed);
  // @fastify/multipart's limit errors carry their own status.
  const status = (err as { statusCode?: number })?.statusCode;
  if (status === 413) {
    const fileTooLarge = (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE' && maxBytes;
    return new AppException(HttpStatus.PAYLOAD_TOO_LARGE, 'MEDIA.TOO_LARGE', fileTooLarge ? `The file is larger than ${maxBytes} bytes` : (err as Error).message);
  }
  if (status === 406 || status === 415) return MediaErrors.notMultipart();
  return err;
}
