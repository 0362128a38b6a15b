export * from './media-storage';
export { FsMediaStorage, DEFAULT_MEDIA_DIR, type FsMediaStorageOptions } from './fs-media-storage';
export { S3MediaStorage, type S3MediaStorageOptions } from './s3-media-storage';
export { signV4, type SigV4Credentials, type SigV4Request, type SigV4Result, type SigV4Scope } from './sigv4';
