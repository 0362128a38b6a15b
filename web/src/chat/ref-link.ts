// Links into the chat app, like Messenger's m.me/<page>?ref=…: `/?page=<page_id>&ref=<ref>` opens that Page's
// thread (POST /threads {page_id, ref}) and the Page's bots get the ref. Pure: ref-link.spec.ts.

const PAGE_ID = /^\d{1,20}$/;
// CreateThreadDto's rule for ref.
const REF = /^[A-Za-z0-9+/=.:_-]{1,250}$/;

export interface LinkTarget {
  pageId: string;
  ref?: string;
  // The link carried a ref the server would refuse: the thread opens without it.
  badRef?: string;
}

// The query's parameters, decoded without turning `+` into a space: a ref may be base64 (`+`, `/`, `=`), and a
// space is never part of one, so a `+` left unencoded in a link is kept as the `+` it was meant to be.
function params(search: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of search.replace(/^\?/, '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const [k, v] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    try {
      out.push([decodeURIComponent(k), decodeURIComponent(v)]);
    } catch {
      // malformed %-escape: not a parameter we read
    }
  }
  return out;
}

// The Page (and ref) a link names; null when it names no Page.
export function linkTarget(search: string): LinkTarget | null {
  const q = params(search);
  const pageId = q.find(([k]) => k === 'page')?.[1];
  if (!pageId || !PAGE_ID.test(pageId)) return null;
  const ref = q.find(([k]) => k === 'ref')?.[1];
  if (ref === undefined) return { pageId };
  return REF.test(ref) ? { pageId, ref } : { pageId, badRef: ref };
}

// What the server's account-linking return put in the URL's fragment: the token (and the login page's code) for the
// app to complete as the person, or why there is nothing to complete. Null: not a return.
export type LinkingReturn = { token: string; code?: string } | { error: string };
export function linkingReturn(hash: string): LinkingReturn | null {
  const q = params(hash.replace(/^#/, ''));
  const token = q.find(([k]) => k === 'account_linking_token')?.[1];
  if (token) {
    const code = q.find(([k]) => k === 'authorization_code')?.[1];
    return code === undefined ? { token } : { token, code };
  }
  const error = q.find(([k]) => k === 'account_linking_error')?.[1];
  return error ? { error } : null;
}

// The query without its one-shot parameters (the others as they were written), so that a reload opens the thread
// again without sending the ref a second time. '' when nothing is left.
export function withoutRef(search: string): string {
  const kept = search
    .replace(/^\?/, '')
    .split('&')
    .filter((part) => {
      if (!part) return false;
      const k = part.split('=')[0];
      try {
        return decodeURIComponent(k) !== 'ref';
      } catch {
        return true;
      }
    });
  return kept.length ? `?${kept.join('&')}` : '';
}
