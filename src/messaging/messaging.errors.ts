import { badRequest, notFound } from '../common/errors/app.exception';

export const MessagingErrors = {
  threadNotFound: (id: string) => notFound('THREAD.NOT_FOUND', `No thread ${id}`),
  unknownMids: (mids: string[]) =>
    badRequest('THREAD.UNKNOWN_MIDS', `Not messages of this thread from the page: ${mids.slice(0, 5).join(', ')}`),
  emptyMessage: () => badRequest('THREAD.EMPTY_MESSAGE', 'Give text or attachments'),
  deliveryNeedsWatermark: () => badRequest('THREAD.DELIVERY_EMPTY', 'Give a watermark or mids'),
};
