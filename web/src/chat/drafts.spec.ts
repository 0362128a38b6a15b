import { describe, expect, it } from '@jest/globals';
import type { UploadedAttachment } from '../api';
import {
  addDrafts,
  composerState,
  Draft,
  formatBytes,
  kindOf,
  MAX_ATTACHMENTS,
  newDraft,
  patchDraft,
  progressOf,
  readyAttachments,
  uploadErrorText,
} from './drafts';
import { fileLabel, mediaSources, thumbBox } from './media';

const file = (name: string, type = 'image/png', size = 1000) => ({ name, type, size });
const uploaded = (id: string): UploadedAttachment => ({
  media_id: id,
  type: 'image',
  payload: { media_id: id, url: `u${id}` },
});

describe('drafts: the files picked for the next message', () => {
  it('previews by kind', () => {
    expect(kindOf('image/jpeg')).toBe('image');
    expect(kindOf('video/mp4')).toBe('video');
    expect(kindOf('audio/mpeg')).toBe('audio');
    expect(kindOf('application/pdf')).toBe('file');
    expect(kindOf('')).toBe('file');
    expect(newDraft('k', file('a.png'), 'blob:1')).toEqual({
      key: 'k',
      file: file('a.png'),
      kind: 'image',
      preview: 'blob:1',
      state: 'uploading',
      loaded: 0,
      total: 1000,
    });
  });

  it('takes at most 10 per message and says how many were left out', () => {
    const some = Array.from({ length: 8 }, (_, i) => newDraft(`a${i}`, file(`${i}.png`)));
    const more = Array.from({ length: 4 }, (_, i) => newDraft(`b${i}`, file(`b${i}.png`)));
    const { drafts, refused } = addDrafts(some, more);
    expect(drafts).toHaveLength(MAX_ATTACHMENTS);
    expect(drafts.slice(8).map((d) => d.key)).toEqual(['b0', 'b1']);
    expect(refused).toBe(2);
    expect(addDrafts(drafts, [newDraft('c', file('c.png'))])).toEqual({ drafts, refused: 1 });
    expect(addDrafts([], more).refused).toBe(0);
  });

  it('shows upload progress, full once uploaded', () => {
    const d = newDraft('k', file('a.png', 'image/png', 400));
    expect(progressOf(d)).toBe(0);
    expect(progressOf({ ...d, loaded: 100 })).toBe(0.25);
    // Multipart overhead: more bytes sent than the file holds.
    expect(progressOf({ ...d, loaded: 500, total: 450 })).toBe(1);
    expect(progressOf({ ...d, state: 'ready' })).toBe(1);
    expect(progressOf({ ...d, total: 0 })).toBe(0);
    const list = [d, newDraft('j', file('b.png'))];
    expect(patchDraft(list, 'j', { loaded: 7 }).map((x) => x.loaded)).toEqual([0, 7]);
  });

  it('can send text, or uploaded files, once nothing is uploading or failed', () => {
    const ready: Draft = { ...newDraft('r', file('r.png')), state: 'ready', uploaded: uploaded('1') };
    const uploading = newDraft('u', file('u.png'));
    const failed: Draft = { ...newDraft('f', file('f.png')), state: 'failed', error: 'Too large' };
    expect(composerState('', [])).toEqual({ canSend: false, hint: null });
    expect(composerState('  ', [])).toEqual({ canSend: false, hint: null });
    expect(composerState('hi', [])).toEqual({ canSend: true, hint: null });
    expect(composerState('', [ready])).toEqual({ canSend: true, hint: null });
    expect(composerState('hi', [ready, uploading])).toEqual({ canSend: false, hint: 'Uploading…' });
    expect(composerState('hi', [ready, failed]).canSend).toBe(false);
    expect(composerState('hi', [ready, failed]).hint).toMatch(/Retry or remove/);
    expect(readyAttachments([ready, uploading, failed])).toEqual([uploaded('1')]);
  });

  it('says why an upload was refused', () => {
    expect(uploadErrorText(413, { code: 'MEDIA.TOO_LARGE', message: 'The file is larger than 26214400 bytes' })).toBe(
      'Too large to send (the limit is 25 MB).',
    );
    expect(uploadErrorText(413, undefined)).toBe('Too large to send.');
    expect(uploadErrorText(400, { code: 'MEDIA.TYPE_MISMATCH', message: 'x' })).toMatch(/do not match/);
    expect(uploadErrorText(400, { code: 'MEDIA.CORRUPT_IMAGE', message: 'x' })).toBe('This image cannot be read.');
    expect(uploadErrorText(404, { code: 'THREAD.NOT_FOUND', message: 'No thread 9' })).toBe('No thread 9');
    expect(uploadErrorText(502, '')).toMatch(/on the server/);
    expect(uploadErrorText(undefined, undefined)).toMatch(/no connection/);
  });

  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2 KB');
    expect(formatBytes(1.5 * 1024 * 1024)).toBe('1.5 MB');
    expect(formatBytes(25 * 1024 * 1024)).toBe('25 MB');
  });
});

describe('media in messages', () => {
  it('shows the thumbnail first and opens the full image; a plain URL is both', () => {
    expect(mediaSources({ url: 'full', thumbnail_url: 'thumb' })).toEqual({ thumb: 'thumb', full: 'full' });
    expect(mediaSources({ url: 'only' })).toEqual({ thumb: 'only', full: 'only' });
    expect(mediaSources({ attachment_id: '5' })).toEqual({ thumb: undefined, full: undefined });
  });

  it('reserves the thumbnail’s box from the upload’s size', () => {
    expect(thumbBox(4032, 3024)).toEqual({ width: 220, height: 165 });
    expect(thumbBox(300, 1200)).toEqual({ width: 55, height: 220 });
    expect(thumbBox(100, 50)).toEqual({ width: 100, height: 50 });
    expect(thumbBox(undefined, 50)).toBeUndefined();
    expect(thumbBox(0, 0)).toBeUndefined();
  });

  it('labels files by the name in their URL, or by size for our own media URLs', () => {
    expect(fileLabel({ url: 'https://cdn.example.com/docs/Price%20list.pdf?x=1' })).toBe('Price list.pdf');
    expect(fileLabel({ url: 'https://cdn.example.com/docs/a.pdf', size: 2048 })).toBe('a.pdf (2 KB)');
    expect(fileLabel({ url: 'http://127.0.0.1:3000/media/123/original?exp=1&sig=x', size: 3 * 1024 * 1024 })).toBe(
      'File (3.0 MB)',
    );
    expect(fileLabel({ url: 'http://127.0.0.1:3000/media/123/original?exp=1&sig=x' })).toBe('File');
  });
});
