// What bots send, drawn as Messenger draws it: text, templates (generic carousel, button, receipt, media), media.
import { useEffect, useRef, useState } from 'preact/hooks';
import type {
  Attachment,
  Button,
  ButtonTemplatePayload,
  GenericTemplatePayload,
  MediaAttachment,
  MediaTemplatePayload,
  MessageView,
  ReceiptTemplatePayload,
} from '../api';

export interface Actions {
  postback(title: string, payload: string): void;
}

export function MessageBody({ m, actions }: { m: MessageView; actions: Actions }) {
  if (m.kind === 'postback') return <div class="bubble">{m.postback?.title}</div>;
  if (m.attachment) return <AttachmentView a={m.attachment} actions={actions} />;
  return <div class="bubble">{m.text}</div>;
}

function AttachmentView({ a, actions }: { a: Attachment; actions: Actions }) {
  if (a.type !== 'template') return <Media a={a as MediaAttachment} />;
  const p = a.payload;
  switch (p.template_type) {
    case 'generic':
      return <Generic p={p as GenericTemplatePayload} actions={actions} />;
    case 'button':
      return <ButtonTemplate p={p as ButtonTemplatePayload} actions={actions} />;
    case 'receipt':
      return <Receipt p={p as ReceiptTemplatePayload} />;
    case 'media':
      return <MediaTemplate p={p as MediaTemplatePayload} actions={actions} />;
    default:
      return <div class="bubble muted">Unsupported message</div>;
  }
}

export function TemplateButton({ b, actions }: { b: Button; actions: Actions }) {
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
              <a href={el.default_action.url} target="_blank" rel="noopener noreferrer" tabIndex={-1}>
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

// Attachments carry payload.url today; one stored by attachment_id has no URL the browser can fetch yet.
function mediaUrl(payload: { url?: string; attachment_id?: string }): string | undefined {
  return payload.url;
}

function Media({ a }: { a: MediaAttachment }) {
  const url = mediaUrl(a.payload);
  if (!url) return <div class="bubble muted">Attachment ({a.type})</div>;
  if (a.type === 'image') return <ImageThumb url={url} />;
  if (a.type === 'video') return <video class="media" src={url} controls preload="metadata" aria-label="Video" />;
  if (a.type === 'audio') return <audio src={url} controls preload="none" aria-label="Audio" />;
  return (
    <a class="bubble file" href={url} target="_blank" rel="noopener noreferrer">
      📎 {decodeURIComponent(url.split('/').pop() || 'File')}
    </a>
  );
}

function MediaTemplate({ p, actions }: { p: MediaTemplatePayload; actions: Actions }) {
  const el = p.elements[0];
  const url = el.url;
  return (
    <div class="card">
      {url ? (
        el.media_type === 'image' ? (
          <ImageThumb url={url} />
        ) : (
          <video class="media" src={url} controls preload="metadata" aria-label="Video" />
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
function ImageThumb({ url }: { url: string }) {
  const [open, setOpen] = useState(false);
  const thumb = useRef<HTMLButtonElement>(null);
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
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
        <img src={url} alt="Image" loading="lazy" />
      </button>
      {open && (
        <div class="lightbox" role="dialog" aria-modal="true" aria-label="Image" onClick={() => setOpen(false)}>
          <img src={url} alt="Full size" />
          <button type="button" class="close" aria-label="Close image" ref={close} onClick={() => setOpen(false)}>
            ✕
          </button>
        </div>
      )}
    </>
  );
}
