// What the chat app tells a person who is not looking: the unread count in the tab's title, and a system
// notification for the Page's new message, as the Send API's notification_type asks (REGULAR: with sound;
// SILENT_PUSH: silently; NO_PUSH: none). Pure, no DOM: notify.spec.ts.
import type { MessageView, ThreadSummary } from '../api';
import { summary } from './thread-logic';

export const APP_TITLE = 'Switchboard';

// "(3) Switchboard": the unread messages of every thread.
export function titleWithUnread(threads: Pick<ThreadSummary, 'unread_count'>[], base = APP_TITLE): string {
  const n = threads.reduce((sum, t) => sum + Math.max(0, t.unread_count), 0);
  return n > 0 ? `(${n > 99 ? '99+' : n}) ${base}` : base;
}

export interface Notice {
  title: string;
  body: string;
  silent: boolean;
  // One notification per thread: a newer message replaces the older one.
  tag: string;
}

// The notification for a message that just arrived, or null: only the Page's messages, only when the person
// isn't already reading that thread on screen, never for NO_PUSH.
export function noticeFor(
  m: MessageView,
  thread: { id: string; pageName: string },
  seen: { visible: boolean; openThreadId: string | null },
): Notice | null {
  if (m.sender !== 'page') return null;
  if (seen.visible && seen.openThreadId === thread.id) return null;
  const type = m.notification_type ?? 'REGULAR';
  if (type === 'NO_PUSH') return null;
  return { title: thread.pageName, body: summary(m) || 'New message', silent: type === 'SILENT_PUSH', tag: `thread-${thread.id}` };
}
