// A Page's bot may send as one of its personas (Messenger's Personas API: a human agent, say). Such a message is
// drawn under a byline, the persona's picture and "Ada (support) · Acme", so the person knows who is writing
// and that it is still the Page. Pure, no DOM: persona.spec.ts.
import type { MessageView, Persona } from '../api';

export interface Byline {
  personaId: string;
  name: string;
  // What the byline says, also its accessible text: "<persona> · <Page>".
  text: string;
  // A signed URL of this platform (expires like other media); absent when the server had none to give.
  picture?: string;
  // Shown instead of the picture when there is none or it fails to load.
  initial: string;
}

// The first letter or digit of a name, upper-cased ("(bot) Ada" → "B"); "?" when it has none.
export function initial(name: string): string {
  const ch = /[\p{L}\p{N}]/u.exec(name)?.[0];
  return ch ? ch.toLocaleUpperCase() : '?';
}

// The byline of msgs[i], if it is a Page message sent as a persona and starts a run: consecutive Page messages
// of the same persona share the first one's byline, as Messenger groups a sender's messages. A person's message,
// a plain Page message or another persona in between starts a new run.
export function personaByline(msgs: MessageView[], i: number, pageName: string): Byline | undefined {
  const m = msgs[i];
  const p = m?.sender === 'page' ? m.persona : undefined;
  if (!p) return undefined;
  const prev = msgs[i - 1];
  if (prev?.sender === 'page' && prev.persona?.id === p.id) return undefined;
  return typingByline(p, pageName);
}

// The byline of a persona as such: above a run of its messages, and above "typing…" when the Page types as it.
export function typingByline(p: Persona, pageName: string): Byline {
  return {
    personaId: p.id,
    name: p.name,
    text: `${p.name} · ${pageName}`,
    ...(p.profile_picture_url ? { picture: p.profile_picture_url } : {}),
    initial: initial(p.name),
  };
}
