/**
 * A Messenger bot SDK for Switchboard (and the Messenger Platform: only the base URL differs). Plain TypeScript on
 * node:crypto, node:http and undici; no framework. See README.md.
 */
export { MessengerBot, type BotEvent, type BotOptions, type Handler, type MessagingType, type SendOptions, type SendResult, type WebhookAnswer, type WebhookRequest } from './bot';
export { EVENT_KINDS, eventKind, type EventKind } from './events';
export { GraphApiError, GraphClient, type GraphClientOptions } from './graph-client';
