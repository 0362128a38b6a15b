// Stable codes for everything the media core refuses; the HTTP layer maps them in one place later.
export const MediaErrorCode = {
  TypeMismatch: 'media.type_mismatch',
  TooLarge: 'media.too_large',
  CorruptImage: 'media.corrupt_image',
  UnsupportedImage: 'media.unsupported_image',
  NotFound: 'media.not_found',
  InvalidRange: 'media.invalid_range',
  InvalidKey: 'media.invalid_key',
  Storage: 'media.storage_error',
} as const;
export type MediaErrorCode = (typeof MediaErrorCode)[keyof typeof MediaErrorCode];

export class MediaError extends Error {
  constructor(
    readonly code: MediaErrorCode,
    readonly reason: string,
    options?: { cause?: unknown; limit?: number },
  ) {
    super(`${code}: ${reason}`, options);
    this.name = 'MediaError';
    if (options?.limit !== undefined) this.limit = options.limit;
  }

  // TooLarge: the cap that was crossed (an image fetched by URL has a lower one than other files).
  readonly limit?: number;
}

export function isMediaError(err: unknown, code?: MediaErrorCode): err is MediaError {
  return err instanceof MediaError && (code === undefined || err.code === code);
}
