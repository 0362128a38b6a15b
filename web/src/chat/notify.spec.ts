import { describe, expect, it } from '@jest/globals';
import type { MessageView } from '../api';
import { noticeFor, titleWithUnread } from './notify';

const page = (extra: Partial<MessageView> = {}): MessageView => ({ mid: 'm.1', seq: 1, sender: 'page', timestamp: 1, kind: 'message', text: 'Your order shipped', ...extra });
const thread = { id: 't1', pageName: 'Acme' };

describe('notifications', () => {
  it('counts every thread’s unread messages in the title', () => {
    expect(titleWithUnread([])).toBe('Switchboard');
    expect(titleWithUnread([{ unread_count: 2 }, { unread_count: 0 }, { unread_count: 1 }])).toBe('(3) Switchboard');
    expect(titleWithUnread([{ unread_count: 150 }])).toBe('(99+) Switchboard');
  });
  it("follows the Send API's notification_type, and stays quiet for what the person is reading", () => {
    const away = { visible: false, openThreadId: 't1' };
    expect(noticeFor(page(), thread, away)).toEqual({ title: 'Acme', body: 'Your order shipped', silent: false, tag: 'thread-t1' });
    expect(noticeFor(page({ notification_type: 'SILENT_PUSH' }), thread, away)?.silent).toBe(true);
    expect(noticeFor(page({ notification_type: 'NO_PUSH' }), thread, away)).toBeNull();
    // On screen, this thread open: nothing; another thread open: a notice.
    expect(noticeFor(page(), thread, { visible: true, openThreadId: 't1' })).toBeNull();
    expect(noticeFor(page(), thread, { visible: true, openThreadId: 't2' })).not.toBeNull();
    // The person's own messages (another device) never notify.
    expect(noticeFor(page({ sender: 'person' }), thread, away)).toBeNull();
    // A persona's message says who; media says what.
    expect(noticeFor(page({ persona: { id: 'p', name: 'Ada' }, text: 'Hi' }), thread, away)?.body).toBe('Ada: Hi');
    expect(noticeFor(page({ text: undefined, attachments: [{ type: 'image', payload: { url: 'u' } }] } as Partial<MessageView>), thread, away)?.body).toBe('Sent a photo');
  });
});
