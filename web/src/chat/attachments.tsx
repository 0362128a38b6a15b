// The composer's attachments: picked, pasted or dropped files are uploaded at once, previewed with their
// progress (or error, with retry) and a remove button, then sent as attachments: [{media_id}] with the message.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api';
import {
  addDrafts,
  Draft,
  formatBytes,
  MAX_ATTACHMENTS,
  newDraft,
  patchDraft,
  progressOf,
  uploadErrorText,
} from './drafts';
import { PaperclipIcon } from './render';
import { Upload, uploadAttachment } from './upload';

let seq = 0;

export interface Attachments {
  drafts: Draft[];
  notice: string | null;
  input: { current: HTMLInputElement | null };
  pick(): void;
  add(files: FileList | File[]): void;
  remove(key: string): void;
  retry(key: string): void;
  // After sending: the previews go (their uploads are done).
  clear(): void;
}

export function useAttachments(threadId: string, token: string): Attachments {
  const [drafts, setDrafts] = useState<Draft[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  // What is not state: the File to (re)upload, its running upload, its preview URL to revoke.
  const files = useRef(new Map<string, File>());
  const uploads = useRef(new Map<string, Upload>());
  const current = useRef<Draft[]>([]);
  current.current = drafts;

  useEffect(
    () => () => {
      for (const u of uploads.current.values()) u.abort();
      for (const d of current.current) if (d.preview) URL.revokeObjectURL(d.preview);
    },
    [],
  );

  function start(key: string, file: File) {
    const up = uploadAttachment(threadId, file, token, (loaded, total) =>
      setDrafts((ds) => patchDraft(ds, key, { loaded, total })),
    );
    uploads.current.set(key, up);
    up.done
      .then(
        (uploaded) => setDrafts((ds) => patchDraft(ds, key, { state: 'ready', uploaded, loaded: file.size })),
        (err) => {
          if ((err as Error).name === 'AbortError') return;
          const status = err instanceof ApiError ? err.status : undefined;
          setDrafts((ds) =>
            patchDraft(ds, key, { state: 'failed', error: uploadErrorText(status, (err as ApiError).body) }),
          );
        },
      )
      .finally(() => uploads.current.get(key) === up && uploads.current.delete(key));
  }

  function forget(key: string) {
    uploads.current.get(key)?.abort();
    uploads.current.delete(key);
    files.current.delete(key);
  }

  return {
    drafts,
    notice,
    input,
    pick: () => input.current?.click(),
    add(list) {
      const picked = Array.from(list);
      const added = picked.map((f) =>
        newDraft(`d${++seq}`, f, f.type.startsWith('image/') ? URL.createObjectURL(f) : undefined),
      );
      const { drafts: next, refused } = addDrafts(current.current, added);
      const kept = added.length - refused;
      setNotice(refused ? `At most ${MAX_ATTACHMENTS} files per message: ${refused} left out.` : null);
      current.current = next;
      setDrafts(next);
      added.forEach((d, i) => {
        if (i >= kept) {
          if (d.preview) URL.revokeObjectURL(d.preview);
          return;
        }
        files.current.set(d.key, picked[i]);
        start(d.key, picked[i]);
      });
    },
    remove(key) {
      const d = current.current.find((x) => x.key === key);
      if (d?.preview) URL.revokeObjectURL(d.preview);
      forget(key);
      setNotice(null);
      setDrafts((ds) => ds.filter((x) => x.key !== key));
    },
    retry(key) {
      const f = files.current.get(key);
      if (!f) return;
      setDrafts((ds) => patchDraft(ds, key, { state: 'uploading', loaded: 0, error: undefined }));
      start(key, f);
    },
    clear() {
      for (const d of current.current) {
        if (d.preview) URL.revokeObjectURL(d.preview);
        forget(d.key);
      }
      setNotice(null);
      setDrafts([]);
    },
  };
}

export function DraftList({ att, onRemoved }: { att: Attachments; onRemoved(): void }) {
  return (
    <ul class="drafts" aria-label="Attachments to send">
      {att.drafts.map((d) => {
        const name = d.file.name || 'file';
        return (
          <li key={d.key} class={`draft ${d.state}`} data-state={d.state}>
            {d.preview ? (
              <img src={d.preview} alt={`Preview of ${name}`} />
            ) : (
              <span class="draft-file" aria-label={`${name}, ${formatBytes(d.file.size)}`}>
                <PaperclipIcon />
                <span class="draft-name">{name}</span>
              </span>
            )}
            {d.state === 'uploading' && <progress max={1} value={progressOf(d)} aria-label={`Uploading ${name}`} />}
            {d.state === 'failed' && (
              <span class="draft-error" role="alert">
                {d.error}
              </span>
            )}
            <div class="draft-actions">
              {d.state === 'failed' && (
                <button type="button" class="link" aria-label={`Retry ${name}`} onClick={() => att.retry(d.key)}>
                  Retry
                </button>
              )}
              <button
                type="button"
                class="draft-remove"
                aria-label={`Remove ${name}`}
                onClick={() => {
                  att.remove(d.key);
                  onRemoved();
                }}
              >
                ✕
              </button>
            </div>
          </li>
        );
      })}
    </ul>
  );
}
