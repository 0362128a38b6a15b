// A page that draws web/src/chat/render.tsx's components from fixtures.ts, inside the chat app's own markup
// and styles, for test/e2e/web-components.e2e.ts. Never part of web/dist: built by that test alone.
import { render } from 'preact';
import '../src/styles.css';
import type { MessageView } from '../src/api';
import { MessageBody, QuickReplyChips } from '../src/chat/render';
import { replyQuote } from '../src/chat/thread-logic';
import { fixtures } from './fixtures';

// What the components asked of the app, in order, for the test to read.
const calls: unknown[][] = ((globalThis as any).__calls = []);
const actions = {
  postback: (title: string, payload: string) => calls.push(['postback', title, payload]),
  mediaError: (m: MessageView) => calls.push(['mediaError', m.mid]),
};

const name = new URLSearchParams(location.search).get('fixture') ?? '';
const f = fixtures[name];
const byMid = new Map((f?.messages ?? []).map((m) => [m.mid, m]));

function Harness() {
  if (!f) return <p role="alert">No fixture named “{name}”.</p>;
  // The app's own wrapper: an open conversation, one column at phone width, beside the (absent) list from 720px.
  return (
    <div class="chat has-open">
      <main class="conversation" aria-label={`Fixture ${name}`}>
        <ol class="messages" aria-label="Messages">
          {f.messages.map((m) => (
            <li key={m.mid} class={`msg ${m.sender}`} data-mid={m.mid}>
              <MessageBody
                m={m}
                actions={actions}
                reply={m.reply_to ? replyQuote(byMid.get(m.reply_to.mid), 'Acme') : undefined}
              />
            </li>
          ))}
        </ol>
        {f.chips && <QuickReplyChips chips={f.chips} onPick={(q) => calls.push(['quick_reply', q.title, q.payload])} />}
      </main>
    </div>
  );
}

render(<Harness />, document.getElementById('app')!);
