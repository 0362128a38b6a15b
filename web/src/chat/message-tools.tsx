// A message of the conversation with what a person can do to it: react (either side's messages) and edit
// (their own text). Its reactions (the person's and the Page's) and "Edited" show under it. The rules are
// in message-actions.ts.
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { MessageView } from '../api';
import { editDraft, MAX_TEXT, reactionAfterPick, reactionBadges, REACTIONS, refusalText, sameReaction } from './message-actions';

export interface MessageItemProps {
  m: MessageView;
  pageName: string;
  // message-actions editable(): whether Edit is offered now.
  canEdit: boolean;
  // The message as drawn (render.tsx MessageBody); the edit form takes its place while editing.
  children: ComponentChildren;
  // Last, under everything: the status line of the person's latest message.
  status?: ComponentChildren;
  // Set (an emoji) or remove (null) the person's reaction; `previous` is what to put back if refused. Absent when
  // the person can't react (they blocked messages from the Page).
  onReact?(emoji: string | null, previous: string | null): Promise<void>;
  // Rejects with the server's refusal, shown in the form.
  onEdit(text: string): Promise<void>;
  // Reply to this message (the composer takes it); absent when the person can't write (composer disabled).
  onReply?(): void;
}

export function MessageItem({ m, pageName, canEdit, children, status, onReact, onEdit, onReply }: MessageItemProps) {
  const [picking, setPicking] = useState(false);
  const [editing, setEditing] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const li = useRef<HTMLLIElement>(null);
  const reactButton = useRef<HTMLButtonElement>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);
  const badges = reactionBadges(m, pageName);
  const pickerId = `picker-${m.mid}`;

  // The picker closes on a click or tap anywhere else.
  useEffect(() => {
    if (!picking) return;
    const away = (e: PointerEvent) => {
      if (!li.current?.contains(e.target as Node)) setPicking(false);
    };
    document.addEventListener('pointerdown', away);
    return () => document.removeEventListener('pointerdown', away);
  }, [picking]);

  // Focus goes back where it was once the form closes: Edit if it is still offered, else React.
  useEffect(() => {
    if (wasEditing.current && !editing) (editButton.current ?? reactButton.current)?.focus();
    wasEditing.current = editing;
  }, [editing]);

  function pick(emoji: string) {
    const current = m.reactions?.person;
    setPicking(false);
    setNotice(null);
    reactButton.current?.focus();
    onReact?.(reactionAfterPick(current, emoji), current ?? null).catch((err) =>
      setNotice(`Reaction not saved: ${refusalText(err)}`),
    );
  }

  return (
    <li ref={li} class={`msg ${m.sender}`} data-mid={m.mid} data-seq={m.seq}>
      {editing ? <EditForm original={m.text} onSave={onEdit} onDone={() => setEditing(false)} /> : children}
      {(badges.length > 0 || !!m.num_edit) && (
        <div class="msg-foot">
          {badges.length > 0 && (
            <span class="reactions" role="group" aria-label="Reactions">
              {badges.map((b) => (
                <span key={b.by} class={`reaction ${b.by}`} role="img" aria-label={b.label} title={b.label}>
                  {b.emoji}
                </span>
              ))}
            </span>
          )}
          {!!m.num_edit && <span class="edited">Edited</span>}
        </div>
      )}
      {/* Not announced by the message list's live region: only what the person opened. */}
      <div class={`msg-actions ${picking ? 'open' : ''}`} aria-live="off">
        {onReact && (
          <button
            ref={reactButton}
            type="button"
            class="msg-action"
            aria-label="React"
            title="React"
            aria-expanded={picking}
            aria-controls={picking ? pickerId : undefined}
            onClick={() => setPicking(!picking)}
          >
            <SmileIcon />
          </button>
        )}
        {onReply && !editing && (
          <button
            type="button"
            class="msg-action"
            aria-label="Reply"
            onClick={() => {
              setPicking(false);
              onReply();
            }}
          >
            Reply
          </button>
        )}
        {canEdit && !editing && (
          <button
            ref={editButton}
            type="button"
            class="msg-action"
            aria-label="Edit message"
            onClick={() => {
              setPicking(false);
              setNotice(null);
              setEditing(true);
            }}
          >
            Edit
          </button>
        )}
      </div>
      {picking && (
        <ReactionPicker
          id={pickerId}
          current={m.reactions?.person}
          onPick={pick}
          onClose={() => {
            setPicking(false);
            reactButton.current?.focus();
          }}
        />
      )}
      {notice && (
        <span class="status error" role="alert">
          {notice}
        </span>
      )}
      {status}
    </li>
  );
}

function ReactionPicker({
  id,
  current,
  onPick,
  onClose,
}: {
  id: string;
  current?: string;
  onPick(emoji: string): void;
  onClose(): void;
}) {
  const group = useRef<HTMLDivElement>(null);
  // Opened: in view, and focus on the current reaction (or the first), so the keyboard can pick at once. A
  // layout effect: keys pressed right after opening already reach the picker.
  useLayoutEffect(() => {
    const el = group.current;
    if (!el) return;
    el.scrollIntoView({ block: 'nearest' });
    (el.querySelector<HTMLButtonElement>('[aria-pressed="true"]') ?? el.querySelector<HTMLButtonElement>('button'))?.focus();
  }, []);
  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'Escape') {
      e.preventDefault();
      onClose();
      return;
    }
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
    const buttons = Array.from(group.current?.querySelectorAll<HTMLButtonElement>('button') ?? []);
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next = buttons[(at + (e.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length];
    e.preventDefault();
    next?.focus();
  }
  return (
    <div id={id} ref={group} class="picker" role="group" aria-label="Pick a reaction" onKeyDown={onKeyDown}>
      {REACTIONS.map((r) => {
        const on = sameReaction(current, r.emoji);
        return (
          <button
            key={r.emoji}
            type="button"
            aria-label={r.label}
            title={on ? `${r.label} (tap again to remove)` : r.label}
            aria-pressed={on}
            onClick={() => onPick(r.emoji)}
          >
            <span aria-hidden="true">{r.emoji}</span>
          </button>
        );
      })}
    </div>
  );
}

let formSeq = 0;

// Inline editing in place of the bubble: Enter or Save sends, Shift+Enter is a new line, Escape or Cancel
// closes. A refusal (limit, window closed, …) stays in the form in the server's words.
function EditForm({
  original,
  onSave,
  onDone,
}: {
  original?: string;
  onSave(text: string): Promise<void>;
  onDone(): void;
}) {
  const [draft, setDraft] = useState(original ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ids] = useState(() => ++formSeq);
  const box = useRef<HTMLTextAreaElement>(null);
  const check = editDraft(original, draft);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  async function save(e?: Event) {
    e?.preventDefault();
    if (busy || check.kind === 'invalid') return;
    if (check.kind === 'unchanged') return onDone();
    setBusy(true);
    setError(null);
    try {
      await onSave(check.text);
      onDone();
    } catch (err) {
      setError(refusalText(err));
      setBusy(false);
    }
  }

  return (
    <form class="edit-form" aria-label="Edit message" onSubmit={save}>
      <label class="sr-only" for={`edit-text-${ids}`}>
        New text
      </label>
      <textarea
        id={`edit-text-${ids}`}
        ref={box}
        value={draft}
        rows={Math.min(6, draft.split('\n').length + 1)}
        maxLength={MAX_TEXT}
        aria-invalid={check.kind === 'invalid'}
        aria-describedby={check.kind === 'invalid' ? `edit-hint-${ids}` : undefined}
        onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            onDone();
          } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            void save();
          }
        }}
      />
      {check.kind === 'invalid' && (
        <span id={`edit-hint-${ids}`} class="status">
          {check.hint}
        </span>
      )}
      {error && (
        <p class="edit-error error" role="alert">
          {error}
        </p>
      )}
      <div class="edit-buttons">
        <button type="button" class="secondary" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy || check.kind === 'invalid'}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}

function SmileIcon() {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
      <circle cx="12" cy="12" r="9" fill="none" stroke="currentColor" stroke-width="1.8" />
      <path d="M8.5 14a4 4 0 0 0 7 0" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" />
      <circle cx="9" cy="9.5" r="1.2" fill="currentColor" />
      <circle cx="15" cy="9.5" r="1.2" fill="currentColor" />
    </svg>
  );
}

// Thumbs up and down under a bot's message (Messenger's response_feedback): shown on the messages of the apps that
// ask for it; the pressed one is the person's answer, which they may change.
export function Thumbs({ value, onPick }: { value: 'good' | 'bad' | undefined; onPick(v: 'good' | 'bad'): void }) {
  return (
    <span class="thumbs" role="group" aria-label="Rate this response">
      <button type="button" class="thumb" aria-label="Good response" aria-pressed={value === 'good'} onClick={() => onPick('good')}>
        👍
      </button>
      <button type="button" class="thumb" aria-label="Bad response" aria-pressed={value === 'bad'} onClick={() => onPick('bad')}>
        👎
      </button>
    </span>
  );
}
