/**
 * A Messenger bot SDK for Switchboard (and the Messenger Platform: only the base URL differs). Plain TypeScript on
 * node:crypto, node:http and undici; no framework. See README.md.
 */
export { DedupeLeaseLostError, DedupeStoreError, MessengerBot, type BotEvent, type BotOptions, type Handler, type MessagingType, type Recipient, type SendOptions, type SendResult, type WebhookAnswer, type WebhookRequest } from './bot';
export { memoryDedupeStore, redisDedupeStore, type DedupeStart, type DedupeStore, type RedisDedupeOptions, type RedisSetNxClient } from './dedupe';
export { EVENT_KINDS, eventKind, type EventKind } from './events';
export { GraphApiError, GraphClient, type GraphClientOptions } from './graph-client';
