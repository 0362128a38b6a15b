// The media core's public surface; the Nest module and HTTP routes import from here.
export * from './media.errors';
export {
  classify,
  declaredMatches,
  detectType,
  heicDecodingSupported,
  DETECT_HEAD_BYTES,
  type DetectedType,
  type MediaKind,
} from './detect-type';
export { ingest, type IngestedFile, type IngestOptions } from './ingest';
export {
  processImage,
  DEFAULT_IMAGE_OPTIONS,
  type ImageProcessingOptions,
  type ProcessedImage,
  type EncodedVariant,
} from './image-processor';
export { probeDurationMs } from './media-duration';
export {
  MediaProcessor,
  type MediaProcessorOptions,
  type MediaVariant,
  type ProcessedMedia,
  type ProcessUploadOptions,
} from './media-processor';
