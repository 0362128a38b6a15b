// What bots send, drawn as Messenger draws it: text, templates (generic carousel, button, receipt, media, coupon,
// customer feedback, marketing messages' opt-in request), media.
import { createContext } from 'preact';
import { useContext, useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type {
  Attachment,
  Button,
  ButtonTemplatePayload,
  CouponTemplatePayload,
  CustomerFeedbackTemplatePayload,
  FeedbackAnswer,
  FeedbackQuestion,
  GenericTemplatePayload,
  NotificationMessagesTemplatePayload,
  TopicView,
  MediaAttachment,
  MediaTemplatePayload,
  MessageView,
  PersonMediaPayload,
  ReceiptTemplatePayload,
  TextQuickReply,
} from '../api';
import { buttonLabel } from '../../../libs/templates/button-label';
import { feedbackScale } from '../../../libs/templates/customer-feedback';
import { NOTIFICATION_MESSAGES_CTA_LABELS } from '../../../libs/templates/constants';
import { fileLabel, mediaSources, thumbBox } from './media';
import { refusalText } from './message-actions';
import type { Byline } from './persona';
import type { ReplyQuote as Quote } from './thread-logic';

export interface Actions {
  postback(title: string, payload: string): void;
  // Log In (account_link) on message `mid`: main.tsx asks the server for the login page and goes there.
  logIn?(mid: string, url: string): void;
  // Log Out (account_unlink).
  logOut?(): void;
  // A message's media failed to load (its signed URLs may have expired): main.tsx re-fetches it.
  mediaError?(m: MessageView): void;
  // "Reveal code" on a coupon: resolves once the code is drawn; rejects with the server's refusal.
  revealCoupon?(m: MessageView): Promise<void>;
  // Submit on a customer feedback request: resolves once the answer is drawn; rejects with the server's refusal.
  submitFeedback?(m: MessageView, answers: FeedbackAnswer[]): Promise<void>;
  // The opt-in request's button (`on`: opt in or resume) and Stop; rejects with the server's refusal.
  optin?(m: MessageView, on: boolean): Promise<void>;
  // The person's topic of that title (marketing messages), if they ever opted in.
  topicOf?(title: string): TopicView | undefined;
}

// `reply`: what a Page's reply_to quotes (thread-logic replyQuote), drawn above the message. `byline`: the
// persona the Page sent it as (persona.ts personaByline), above that.
export function MessageBody({
  m,
  actions,
  reply,
  byline,
}: {
  m: MessageView;
  actions: Actions;
  reply?: Quote;
  byline?: Byline;
}) {
  return (
    <>
      {byline && <PersonaByline b={byline} onError={actions.mediaError ? () => actions.mediaError!(m) : undefined} />}
      {reply && <ReplyQuote q={reply} />}
      <MessageMid.Provider value={m.mid}>
        <Content m={m} actions={actions} />
      </MessageMid.Provider>
    </>
  );
}

function Content({ m, actions }: { m: MessageView; actions: Actions }) {
  const onError = actions.mediaError ? () => actions.mediaError!(m) : undefined;
  if (m.kind === 'postback') return <div class="bubble">{m.postback?.title}</div>;
  if (m.attachment?.type === 'template' && m.attachment.payload.template_type === 'coupon')
    return <Coupon m={m} p={m.attachment.payload} actions={actions} />;
  if (m.attachment?.type === 'template' && m.attachment.payload.template_type === 'customer_feedback')
    return <CustomerFeedback m={m} p={m.attachment.payload} actions={actions} />;
  if (m.attachment?.type === 'template' && m.attachment.payload.template_type === 'notification_messages')
    return <OptinRequest m={m} p={m.attachment.payload} actions={actions} />;
  if (m.attachment) return <AttachmentView a={m.attachment} actions={actions} onError={onError} />;
  if (m.attachments?.length)
    return (
      <>
        <div class="media-group">
          {m.attachments.map((a, i) => (
            <Media key={a.payload.media_id ?? i} type={a.type} payload={a.payload} onError={onError} />
          ))}
        </div>
        {m.text && <div class="bubble">{m.text}</div>}
      </>
    );
  return <div class="bubble">{m.text}</div>;
}

// Who wrote a message the Page sent as a persona: a small round picture and "Ada (support) · Acme".
export function PersonaByline({ b, onError }: { b: Byline; onError?: () => void }) {
  return (
    <div class="persona-byline" data-persona={b.personaId}>
      <PersonaAvatar picture={b.picture} initial={b.initial} onError={onError} />
      <span class="persona-name">{b.text}</span>
    </div>
  );
}

// The picture is decorative (the name is beside it). A signed URL may have expired: the initial shows instead at
// once, and onError asks main.tsx for fresh URLs, which arrive as a new `picture` and are tried again.
function PersonaAvatar({ picture, initial, onError }: { picture?: string; initial: string; onError?: () => void }) {
  const [failed, setFailed] = useState<string | null>(null);
  if (!picture || failed === picture)
    return (
      <span class="avatar persona-avatar" aria-hidden="true">
        {initial}
      </span>
    );
  return (
    <img
      class="avatar persona-avatar"
      src={picture}
      alt=""
      width={24}
      height={24}
      onError={() => {
        setFailed(picture);
        onError?.();
      }}
    />
  );
}

// A small quote of the message replied to; its label says the whole of it for screen readers.
export function ReplyQuote({ q }: { q: Quote }) {
  return (
    <blockquote class={`reply-quote ${q.found ? '' : 'missing'}`} aria-label={q.label}>
      {q.found ? (
        <>
          <span class="reply-who" aria-hidden="true">
            {q.lead ?? 'Replying to'} {q.who}
          </span>
          <span class="reply-text" aria-hidden="true">
            {q.text}
          </span>
        </>
      ) : (
        <span class="reply-who" aria-hidden="true">
          {q.text}
        </span>
      )}
    </blockquote>
  );
}

// The latest Page message's quick replies, as buttons (thread-logic quickReplyChips says which).
export function QuickReplyChips({ chips, onPick }: { chips: TextQuickReply[]; onPick(q: TextQuickReply): void }) {
  if (!chips.length) return null;
  return (
    <div class="chips" role="group" aria-label="Quick replies">
      {chips.map((q, i) => (
        <button type="button" class="chip" key={i} onClick={() => onPick(q)}>
          {q.image_url && <img src={q.image_url} alt="" />}
          {q.title}
        </button>
      ))}
    </div>
  );
}

function AttachmentView({ a, actions, onError }: { a: Attachment; actions: Actions; onError?: () => void }) {
  if (a.type !== 'template') return <Media type={a.type} payload={(a as MediaAttachment).payload} onError={onError} />;
  const p = a.payload;
  switch (p.template_type) {
    case 'generic':
      return <Generic p={p as GenericTemplatePayload} actions={actions} />;
    case 'button':
      return <ButtonTemplate p={p as ButtonTemplatePayload} actions={actions} />;
    case 'receipt':
      return <Receipt p={p as ReceiptTemplatePayload} />;
    case 'media':
      return <MediaTemplate p={p as MediaTemplatePayload} actions={actions} onError={onError} />;
    default:
      return <div class="bubble muted">Unsupported message</div>;
  }
}

// The message a template's buttons belong to (a Log In button names it to the server).
const MessageMid = createContext('');

export function TemplateButton({ b, actions }: { b: Button; actions: Actions }) {
  const mid = useContext(MessageMid);
  if (b.type === 'account_link')
    return (
      <button type="button" class="tbutton" disabled={!actions.logIn || !mid} onClick={() => actions.logIn?.(mid, b.url)}>
        {buttonLabel(b)}
      </button>
    );
  if (b.type === 'account_unlink')
    return (
      <button type="button" class="tbutton" disabled={!actions.logOut} onClick={() => actions.logOut?.()}>
        {buttonLabel(b)}
      </button>
    );
  if (b.type === 'web_url')
    return (
      <a class="tbutton" href={b.url} target="_blank" rel="noopener noreferrer">
        {b.title}
      </a>
    );
  if (b.type === 'phone_number')
    return (
      <a class="tbutton" href={`tel:${b.payload}`}>
        {b.title}
      </a>
    );
  return (
    <button type="button" class="tbutton" onClick={() => actions.postback(b.title, b.payload)}>
      {b.title}
    </button>
  );
}

function Generic({ p, actions }: { p: GenericTemplatePayload; actions: Actions }) {
  const square = p.image_aspect_ratio === 'square';
  return (
    <ul class="carousel" aria-label="Carousel">
      {p.elements.map((el, i) => {
        const img = el.image_url ? (
          <img class={square ? 'card-img square' : 'card-img'} src={el.image_url} alt="" loading="lazy" />
        ) : null;
        return (
          <li class="card" key={i} aria-label={el.title}>
            {img && el.default_action ? (
              // Named for screen readers (the image itself is decorative) and reachable by keyboard.
              <a class="card-link" href={el.default_action.url} target="_blank" rel="noopener noreferrer" aria-label={`Open ${el.title}`}>
                {img}
              </a>
            ) : (
              img
            )}
            <div class="card-text">
              <div class="card-title">{el.title}</div>
              {el.subtitle && <div class="card-subtitle">{el.subtitle}</div>}
            </div>
            {el.buttons?.length ? (
              <div class="card-buttons">
                {el.buttons.map((b, j) => (
                  <TemplateButton key={j} b={b} actions={actions} />
                ))}
              </div>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}

function ButtonTemplate({ p, actions }: { p: ButtonTemplatePayload; actions: Actions }) {
  return (
    <div class="card button-template">
      <div class="card-text">{p.text}</div>
      <div class="card-buttons">
        {p.buttons.map((b, j) => (
          <TemplateButton key={j} b={b} actions={actions} />
        ))}
      </div>
    </div>
  );
}

// Messenger's coupon: the pre-message as a bubble, then a card with the image, title and subtitle ("Terms may
// apply." by default). "Reveal code" asks the server for the code (the person's view has none before), which then
// shows with a copy button; coupon_url is a link button ("Shop now" by default). Focus goes from Reveal to Copy.
function Coupon({ m, p, actions }: { m: MessageView; p: CouponTemplatePayload; actions: Actions }) {
  const [revealing, setRevealing] = useState(false);
  const [status, setStatus] = useState('');
  const [refusal, setRefusal] = useState<string | null>(null);
  const code = useRef<HTMLElement>(null);
  const copyButton = useRef<HTMLButtonElement>(null);
  // Set by this device's tap: Copy then takes the place (and the focus) of Reveal; another device's reveal moves nothing.
  const tapped = useRef(false);
  const revealed = !!m.coupon?.revealed && p.coupon_code !== undefined;
  useEffect(() => {
    if (revealed && tapped.current) copyButton.current?.focus();
    if (revealed) tapped.current = false;
  }, [revealed]);

  async function reveal() {
    if (!actions.revealCoupon || revealing) return;
    setRevealing(true);
    setRefusal(null);
    tapped.current = true;
    try {
      await actions.revealCoupon(m);
    } catch (err) {
      tapped.current = false;
      setRefusal(`Code not revealed: ${refusalText(err)}`);
    } finally {
      setRevealing(false);
    }
  }
  async function copy() {
    setRefusal(null);
    try {
      await navigator.clipboard.writeText(p.coupon_code!);
      setStatus('Code copied');
    } catch {
      // No clipboard here (an insecure origin, a refused permission): the code is selected for the person to copy.
      const range = document.createRange();
      if (code.current) range.selectNodeContents(code.current);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      setStatus('');
      setRefusal('Could not copy: the code is selected, copy it yourself');
    }
  }
  return (
    <div class="coupon-message">
      {p.coupon_pre_message && <div class="bubble">{p.coupon_pre_message}</div>}
      <div class="card coupon" role="group" aria-label={`Coupon: ${p.title}`}>
        {p.image_url && <img class="card-img" src={p.image_url} alt="" loading="lazy" />}
        <div class="card-text">
          <div class="card-title">{p.title}</div>
          <div class="card-subtitle">{p.subtitle || 'Terms may apply.'}</div>
        </div>
        {m.coupon &&
          (revealed ? (
            <div class="coupon-code">
              <span class="sr-only">Code: </span>
              <code ref={code}>{p.coupon_code}</code>
              <button type="button" class="tbutton" ref={copyButton} onClick={() => void copy()}>
                Copy code
              </button>
            </div>
          ) : (
            // aria-disabled, not disabled, while the server answers: the button keeps the focus.
            <button
              type="button"
              class="tbutton coupon-reveal"
              aria-disabled={revealing}
              disabled={!actions.revealCoupon}
              onClick={() => void reveal()}
            >
              {revealing ? 'Revealing…' : 'Reveal code'}
            </button>
          ))}
        {p.coupon_url && (
          <a class="tbutton" href={p.coupon_url} target="_blank" rel="noopener noreferrer">
            {p.coupon_url_button_title || 'Shop now'}
          </a>
        )}
        <div class="coupon-status" role="status">
          {status}
        </div>
        {refusal && (
          <div class="coupon-status error" role="alert">
            {refusal}
          </div>
        )}
      </div>
    </div>
  );
}

// Messenger's defaults when a question has no title of its own.
const DEFAULT_QUESTION_TITLES: Record<string, string> = {
  csat: 'How would you rate your experience?',
  nps: 'How likely are you to recommend us to a friend?',
  ces: 'Overall, how easy was it to solve your problem today?',
};
const FIVE_EMOJIS = ['😠', '🙁', '😐', '🙂', '😍'];

// A question's scale as buttons: stars, emojis or numbers; `pos_neg` draws the best score first.
function Scale({ q, value, onPick }: { q: FeedbackQuestion; value: number | undefined; onPick(score: number): void }) {
  const { option, min, max } = feedbackScale(q);
  const scores = Array.from({ length: max - min + 1 }, (_, i) => min + i);
  if (q.score_label === 'pos_neg') scores.reverse();
  const face = (s: number) => (option === 'five_stars' ? (value !== undefined && s <= value ? '★' : '☆') : option === 'five_emojis' ? FIVE_EMOJIS[s - 1] : String(s));
  const name = (s: number) => (option === 'five_stars' ? `${s} star${s === 1 ? '' : 's'}` : `${s} of ${max}`);
  return (
    <div class={`feedback-scale ${option}`} role="group" aria-label={q.title || DEFAULT_QUESTION_TITLES[q.type]}>
      {scores.map((s) => (
        <button key={s} type="button" class="feedback-score" aria-pressed={value === s} aria-label={name(s)} onClick={() => onPick(s)}>
          {face(s)}
        </button>
      ))}
    </div>
  );
}

// Messenger's customer feedback template: a card with the title, subtitle and button_title. The button opens the
// questions, each on its scale with its free-form follow-up, and the business's privacy link; Submit sends the
// answer once. Answered, the card says what was given (on every device); past expires_at, that it expired.
function CustomerFeedback({ m, p, actions }: { m: MessageView; p: CustomerFeedbackTemplatePayload; actions: Actions }) {
  const questions = p.feedback_screens.flatMap((s) => s.questions);
  const [open, setOpen] = useState(false);
  const [scores, setScores] = useState<Record<string, number>>({});
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [sending, setSending] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const state = m.feedback;
  const answered = state?.submitted_at !== undefined;
  const expired = !answered && state !== undefined && Date.now() > state.expires_at;
  const given = state?.feedback_screens?.flatMap((s) => Object.entries(s.questions)) ?? [];
  const complete = questions.every((q) => scores[q.id] !== undefined);

  async function submit(e: Event) {
    e.preventDefault();
    if (!actions.submitFeedback || sending || !complete) return;
    setSending(true);
    setRefusal(null);
    try {
      await actions.submitFeedback(
        m,
        questions.map((q) => ({ question_id: q.id, score: scores[q.id], ...(texts[q.id]?.trim() ? { follow_up: texts[q.id].trim() } : {}) })),
      );
    } catch (err) {
      setRefusal(`Feedback not sent: ${refusalText(err)}`);
    } finally {
      setSending(false);
    }
  }
  return (
    <div class="card feedback" role="group" aria-label={`Feedback request: ${p.title}`}>
      <div class="card-text">
        <div class="card-title">{p.title}</div>
        {p.subtitle && <div class="card-subtitle">{p.subtitle}</div>}
      </div>
      {answered ? (
        <div class="feedback-done" role="status">
          Thanks for your feedback
          {given.map(([id, a]) => {
            const q = questions.find((x) => x.id === id);
            const max = q ? feedbackScale(q).max : undefined;
            return (
              <div key={id} class="feedback-given">
                You gave {a.payload}
                {max !== undefined ? ` of ${max}` : ''}
                {a.follow_up && <q>{a.follow_up.payload}</q>}
              </div>
            );
          })}
        </div>
      ) : expired ? (
        <div class="feedback-done">This feedback request has expired</div>
      ) : !open ? (
        <button type="button" class="tbutton" disabled={!actions.submitFeedback} onClick={() => setOpen(true)}>
          {p.button_title}
        </button>
      ) : (
        <form class="feedback-form" onSubmit={(e) => void submit(e)}>
          {questions.map((q) => (
            <fieldset key={q.id}>
              <legend>{q.title || DEFAULT_QUESTION_TITLES[q.type]}</legend>
              <Scale q={q} value={scores[q.id]} onPick={(s) => setScores((x) => ({ ...x, [q.id]: s }))} />
              {q.follow_up && (
                <textarea
                  maxLength={400}
                  aria-label="Tell us more (optional)"
                  placeholder={q.follow_up.placeholder || 'Tell us more (optional)'}
                  value={texts[q.id] ?? ''}
                  onInput={(e) => setTexts((x) => ({ ...x, [q.id]: (e.target as HTMLTextAreaElement).value }))}
                />
              )}
            </fieldset>
          ))}
          <a class="feedback-privacy" href={p.business_privacy.url} target="_blank" rel="noopener noreferrer">
            Privacy policy
          </a>
          <button type="submit" class="tbutton" aria-disabled={sending || !complete}>
            {sending ? 'Sending…' : 'Submit'}
          </button>
        </form>
      )}
      {refusal && (
        <div class="coupon-status error" role="alert">
          {refusal}
        </div>
      )}
    </div>
  );
}

// Marketing messages' opt-in request: image, title, and the button (notification_messages_cta_text, "Get messages"
// by default). Once the person opted in to its topic (its title) it says so, with Stop; stopped, with Resume;
// expired, the button again (a new token).
function OptinRequest({ m, p, actions }: { m: MessageView; p: NotificationMessagesTemplatePayload; actions: Actions }) {
  const [busy, setBusy] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const topic = actions.topicOf?.(p.title);
  const status = topic?.status === 'active' || topic?.status === 'stopped' ? topic.status : null;
  async function tap(on: boolean) {
    if (!actions.optin || busy) return;
    setBusy(true);
    setRefusal(null);
    try {
      await actions.optin(m, on);
    } catch (err) {
      setRefusal(`Not changed: ${refusalText(err)}`);
    } finally {
      setBusy(false);
    }
  }
  const cta = NOTIFICATION_MESSAGES_CTA_LABELS[p.notification_messages_cta_text ?? 'DEFAULT'];
  return (
    <div class="card optin-request" role="group" aria-label={`Messages from this Page: ${p.title}`}>
      {p.image_url && <img class="card-img" src={p.image_url} alt="" loading="lazy" />}
      <div class="card-text">
        <div class="card-title">{p.title}</div>
        <div class="card-subtitle optin-state" role="status">
          {status === 'active'
            ? "You'll get messages on this topic. You can stop them any time."
            : status === 'stopped'
              ? 'You stopped these messages.'
              : 'Get occasional messages from this Page on this topic.'}
        </div>
      </div>
      {status === 'active' ? (
        <button type="button" class="tbutton optin-stop" aria-disabled={busy} disabled={!actions.optin} onClick={() => void tap(false)}>
          {busy ? 'Stopping…' : 'Stop messages'}
        </button>
      ) : (
        <button type="button" class="tbutton optin-cta" aria-disabled={busy} disabled={!actions.optin} onClick={() => void tap(true)}>
          {busy ? 'One moment…' : status === 'stopped' ? 'Resume messages' : cta}
        </button>
      )}
      {refusal && (
        <div class="coupon-status error" role="alert">
          {refusal}
        </div>
      )}
    </div>
  );
}

function money(n: number | undefined, currency: string) {
  if (n === undefined) return '';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(n);
  } catch {
    return `${n} ${currency}`;
  }
}

function Receipt({ p }: { p: ReceiptTemplatePayload }) {
  const c = p.currency;
  return (
    <div class="card receipt" aria-label="Receipt">
      <div class="receipt-head">
        <div class="card-title">{p.merchant_name ?? 'Receipt'}</div>
        <div class="card-subtitle">Order #{p.order_number}</div>
      </div>
      <dl class="receipt-meta">
        <dt>To</dt>
        <dd>{p.recipient_name}</dd>
        <dt>Paid with</dt>
        <dd>{p.payment_method}</dd>
        {p.address && (
          <>
            <dt>Ship to</dt>
            <dd>
              {p.address.street_1}
              {p.address.street_2 ? `, ${p.address.street_2}` : ''}, {p.address.city} {p.address.postal_code}, {p.address.state}{' '}
              {p.address.country}
            </dd>
          </>
        )}
      </dl>
      {p.elements?.length ? (
        <ul class="receipt-items">
          {p.elements.map((el, i) => (
            <li key={i}>
              {el.image_url && <img src={el.image_url} alt="" />}
              <div class="grow">
                <div>{el.title}</div>
                {el.subtitle && <div class="card-subtitle">{el.subtitle}</div>}
                {el.quantity !== undefined && <div class="card-subtitle">Qty {el.quantity}</div>}
              </div>
              <div>{money(el.price, el.currency ?? c)}</div>
            </li>
          ))}
        </ul>
      ) : null}
      <dl class="receipt-summary">
        {p.adjustments?.map((a, i) => (
          <>
            <dt key={`a${i}`}>{a.name}</dt>
            <dd>{money(-Math.abs(a.amount), c)}</dd>
          </>
        ))}
        {p.summary.subtotal !== undefined && (
          <>
            <dt>Subtotal</dt>
            <dd>{money(p.summary.subtotal, c)}</dd>
          </>
        )}
        {p.summary.shipping_cost !== undefined && (
          <>
            <dt>Shipping</dt>
            <dd>{money(p.summary.shipping_cost, c)}</dd>
          </>
        )}
        {p.summary.total_tax !== undefined && (
          <>
            <dt>Tax</dt>
            <dd>{money(p.summary.total_tax, c)}</dd>
          </>
        )}
        <dt class="total">Total</dt>
        <dd class="total">{money(p.summary.total_cost, c)}</dd>
      </dl>
    </div>
  );
}

// Drawn, not an emoji: a device without an emoji font would show a box.
export function PaperclipIcon() {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path
        d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5"
        fill="none"
        stroke="currentColor"
        stroke-width="1.8"
        stroke-linecap="round"
      />
    </svg>
  );
}

export function Media({
  type,
  payload,
  onError,
}: {
  type: MediaAttachment['type'];
  payload: PersonMediaPayload;
  onError?: () => void;
}) {
  const { thumb, full } = mediaSources(payload);
  if (!full) return <div class="bubble muted">Attachment ({type})</div>;
  if (type === 'image')
    return <ImageThumb thumb={thumb ?? full} full={full} width={payload.width} height={payload.height} onError={onError} />;
  if (type === 'video') return <video class="media" src={full} controls preload="metadata" aria-label="Video" onError={onError} />;
  if (type === 'audio') return <audio src={full} controls preload="none" aria-label="Audio" onError={onError} />;
  return (
    <a class="bubble file" href={full} target="_blank" rel="noopener noreferrer">
      <PaperclipIcon /> {fileLabel(payload)}
    </a>
  );
}

function MediaTemplate({ p, actions, onError }: { p: MediaTemplatePayload; actions: Actions; onError?: () => void }) {
  const el = p.elements[0];
  const url = el.url;
  return (
    <div class="card">
      {url ? (
        el.media_type === 'image' ? (
          <ImageThumb thumb={url} full={url} onError={onError} />
        ) : (
          <video class="media" src={url} controls preload="metadata" aria-label="Video" onError={onError} />
        )
      ) : (
        <div class="bubble muted">Media</div>
      )}
      {el.buttons?.length ? (
        <div class="card-buttons">
          {el.buttons.map((b, j) => (
            <TemplateButton key={j} b={b} actions={actions} />
          ))}
        </div>
      ) : null}
    </div>
  );
}

// Thumbnail first; the full image opens on tap, in a dialog that Escape or a tap closes.
// width/height (the person's uploads carry them) reserve the thumbnail's box before it loads.
// onError: the image failed to load (main.tsx fetches fresh URLs, which arrive as new props).
function ImageThumb({
  thumb: thumbUrl,
  full,
  width,
  height,
  onError,
}: {
  thumb: string;
  full: string;
  width?: number;
  height?: number;
  onError?: () => void;
}) {
  const [open, setOpen] = useState(false);
  const box = thumbBox(width, height);
  const thumb = useRef<HTMLButtonElement>(null);
  const close = useRef<HTMLButtonElement>(null);
  // A layout effect: focus and the Escape key work from the first frame that shows the dialog
  // (a plain effect waits for the paint, and a quick Escape would go unheard).
  useLayoutEffect(() => {
    if (!open) return;
    close.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    addEventListener('keydown', onKey);
    return () => {
      removeEventListener('keydown', onKey);
      thumb.current?.focus();
    };
  }, [open]);
  return (
    <>
      <button type="button" class="thumb" aria-label="Open image" ref={thumb} onClick={() => setOpen(true)}>
        <img src={thumbUrl} alt="Image" loading="lazy" width={box?.width} height={box?.height} onError={onError} />
      </button>
      {open && (
        <div class="lightbox" role="dialog" aria-modal="true" aria-label="Image" onClick={() => setOpen(false)}>
          <img src={full} alt="Full size" onError={onError} />
          <button type="button" class="close" aria-label="Close image" ref={close} onClick={() => setOpen(false)}>
            ✕
          </button>
        </div>
      )}
    </>
  );
}
