// Code evaluated inside every isolate before the script's module, with context.evalClosure.
// $0 log(inv, level, message), $1 hostCall(inv, req, op, json) and $2 done(inv, resultJson) are
// isolated-vm Callbacks in sync mode: inside the isolate they are plain functions whose arguments
// are copied (primitives only here); they live in this closure and never on globalThis. Sync, not
// "ignored": an ignored call can reach the worker after the handler's result, and the log line or
// send would be lost. hostCall only queues the request; its answer comes back later through
// deliver(). done() reports the invocation's outcome once the handler's promise settles, so the
// worker needs no promise proxied across the boundary. $3 is the initial log limits as JSON. The
// closure returns { init, run, deliver }, reachable only from the worker.
//
// Script code shares this realm, so it can replace any builtin after we start: everything we
// rely on is captured first, and results travel as strings we build ourselves (a polluted
// Object.prototype.toJSON cannot rewrite them). What the script can still do is confuse its own
// bookkeeping; the worker and the pool re-check every count and size.
export const SCRIPT_FILENAME = 'file:///bot.js';

export const BOOTSTRAP_SOURCE = String.raw`
'use strict';
const hostLog = $0;
const hostCall = $1;
const hostDone = $2;
const G = globalThis;
const JSONparse = JSON.parse;
const JSONstringify = JSON.stringify;
const ReflectApply = Reflect.apply;
const ObjectFreeze = Object.freeze;
const ObjectCreate = Object.create;
const ObjectKeys = Object.keys;
const ObjectDefineProperty = Object.defineProperty;
const PromiseCtor = Promise;
const PromiseThen = Promise.prototype.then;
const ErrorCtor = Error;
const TypeErrorCtor = TypeError;
const StringCtor = String;
const StringSlice = String.prototype.slice;
const StringToUpperCase = String.prototype.toUpperCase;
const DateNow = Date.now;

// Not offered to scripts: shared memory (Atomics.wait parks a thread without using CPU),
// WebAssembly (its compiler threads are not counted in the isolate's cpuTime) and
// FinalizationRegistry (V8 runs its callbacks after a collection, outside any entry the worker
// limits: an endless one held the worker's thread until the heartbeat killed it).
delete G.SharedArrayBuffer;
delete G.WebAssembly;
delete G.FinalizationRegistry;
if (typeof Atomics === 'object') { delete Atomics.wait; delete Atomics.waitAsync; }

const initial = JSONparse($3);
let handlers = null;
let inv = 0;
let pending = ObjectCreate(null);
let nextReq = 0;
let calls = 0;
let maxCalls = 0;
let maxPayload = 0;
let logs = 0;
let logChars = 0;
let maxLogs = initial.maxLogEntries;
let maxLogChars = initial.maxLogBytes;
let logOpen = true;

// then() looks up its result's constructor through p.constructor and [Symbol.species], which a script can redefine
// on Promise.prototype or Promise (a getter that throws, a fake species). Every promise we make carries its own
// constructor: undefined, so then() takes the intrinsic Promise and nothing of the script's runs in our bookkeeping.
// A script's own value is never handed to Promise.resolve (which reads its constructor too): resolve() adopts it,
// and whatever its then getter throws becomes a rejection, reported as the script's error.
function ownPromise(executor) {
  const p = new PromiseCtor(executor);
  // A null-prototype descriptor: defineProperty reads get/set/value/writable through the descriptor's prototype chain,
  // and a script can define those on Object.prototype.
  ObjectDefineProperty(p, 'constructor', { __proto__: null, value: undefined });
  return p;
}
function then(p, ok, err) { return ReflectApply(PromiseThen, p, [ok, err]); }
function toPromise(v) { return ownPromise((resolve) => resolve(v)); }
// ok/err once the script's value settles. A native promise gets our reactions directly with the captured then, so a
// replaced Promise.prototype.then is never called; if it is not a promise, or its constructor or species throws,
// it is adopted by our own promise instead, where whatever the script's code throws becomes a rejection.
function whenSettled(v, ok, err) {
  try {
    then(v, ok, err);
    return;
  } catch (e) {
    // Not a promise, or the script broke its species: adopt it below.
  }
  then(toPromise(v), ok, err);
}
function str(v) { try { return StringCtor(v); } catch (e) { return '[unprintable]'; } }
function clip(s, n) { return s.length > n ? ReflectApply(StringSlice, s, [0, n]) : s; }
function codedError(code, message) {
  const e = new ErrorCtor(message);
  ObjectDefineProperty(e, 'code', { __proto__: null, value: code, enumerable: true, configurable: true, writable: true });
  return e;
}
function errorJson(e) {
  let name = 'Error', message = '', stack = '';
  try {
    if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
      name = str(e.name);
      message = str(e.message);
      const s = e.stack;
      if (typeof s === 'string') stack = s;
    } else {
      name = 'Thrown';
      message = str(e);
    }
  } catch (x) {
    message = '[unreadable error]';
  }
  return '{"ok":false,"name":' + JSONstringify(clip(name, 200)) + ',"message":' + JSONstringify(clip(message, 4000)) +
    ',"stack":' + JSONstringify(clip(stack, 8000)) + '}';
}

function formatArg(a) {
  if (typeof a === 'string') return a;
  if (a instanceof ErrorCtor) { try { const s = a.stack; return typeof s === 'string' ? s : str(a); } catch (e) { return '[error]'; } }
  if (typeof a === 'function' || typeof a === 'symbol' || typeof a === 'bigint' || a === undefined) return str(a);
  try { const j = JSONstringify(a); return j === undefined ? str(a) : j; } catch (e) { return str(a); }
}
function makeLog(level) {
  return (...args) => {
    if (!logOpen) return;
    let msg = '';
    for (let i = 0; i < args.length; i++) {
      msg += (i === 0 ? '' : ' ') + formatArg(args[i]);
      if (msg.length > maxLogChars) break;
    }
    msg = clip(msg, maxLogChars - logChars + 1);
    logs++;
    logChars += msg.length;
    // One message past either budget tells the worker to mark the logs truncated.
    if (logs > maxLogs || logChars > maxLogChars) logOpen = false;
    hostLog(inv, level, msg);
  };
}
G.console = ObjectFreeze({
  log: makeLog('log'), info: makeLog('info'), warn: makeLog('warn'), error: makeLog('error'), debug: makeLog('debug'),
});

function call(op, payload) {
  return ownPromise((resolve, reject) => {
    let json = '';
    if (payload !== undefined) {
      try { json = JSONstringify(payload); } catch (e) { reject(new TypeErrorCtor('ctx ' + op + ': argument is not JSON-serializable')); return; }
      if (typeof json !== 'string') json = '';
    }
    if (json.length > maxPayload) { reject(codedError('payload_too_large', 'ctx ' + op + ': payload over ' + maxPayload + ' bytes')); return; }
    // The call one past the budget still goes to the worker, which ends the invocation.
    if (calls > maxCalls) { reject(codedError('host_call_limit', 'too many host calls in one event')); return; }
    calls++;
    const id = ++nextReq;
    pending[id] = { resolve: resolve, reject: reject };
    hostCall(inv, id, op, json);
  });
}

function deliver(id, ok, json) {
  const p = pending[id];
  if (p === undefined) return;
  delete pending[id];
  // Nothing the script redefined may throw out of here: it would reach the worker as the isolate's own fault.
  try {
    let v;
    try { v = json === '' ? undefined : JSONparse(json); } catch (e) { p.reject(e); return; }
    if (ok) { p.resolve(v); return; }
    const code = v !== null && typeof v === 'object' ? str(v.code) : 'host_error';
    const message = v !== null && typeof v === 'object' ? str(v.message) : 'host call failed';
    p.reject(codedError(code, message));
  } catch (e) {
    try { p.reject(e); } catch (x) { /* the script's promise machinery is broken: its run ends at the wall limit */ }
  }
}

function makeResponse(r) {
  const body = typeof r.body === 'string' ? r.body : '';
  const status = typeof r.status === 'number' ? r.status : 0;
  const headers = ObjectCreate(null);
  const h = r.headers !== null && typeof r.headers === 'object' ? r.headers : {};
  const keys = ObjectKeys(h);
  for (let i = 0; i < keys.length; i++) headers[keys[i]] = str(h[keys[i]]);
  return ObjectFreeze({
    status: status,
    ok: status >= 200 && status < 300,
    headers: ObjectFreeze(headers),
    text: () => toPromise(body),
    json: () => ownPromise((resolve) => resolve(JSONparse(body))),
  });
}

function fetchRequest(url, init) {
  const o = init !== null && typeof init === 'object' ? init : {};
  const headers = ObjectCreate(null);
  if (o.headers !== null && typeof o.headers === 'object') {
    const keys = ObjectKeys(o.headers);
    for (let i = 0; i < keys.length; i++) headers[keys[i]] = str(o.headers[keys[i]]);
  }
  let body;
  if (o.body !== undefined && o.body !== null) {
    if (typeof o.body !== 'string') throw new TypeErrorCtor('ctx.fetch: body must be a string');
    body = o.body;
  }
  const method = o.method === undefined ? 'GET' : ReflectApply(StringToUpperCase, str(o.method), []);
  return { url: str(url), method: method, headers: headers, body: body };
}

// Plain values only cross to the host: a PSID or app id given as a number becomes its digits.
function handoverArgs(action, psid, opts) {
  const o = opts === undefined || opts === null ? {} : opts;
  const args = { action: action, recipient: typeof psid === 'number' ? str(psid) : psid };
  if (o.target_app_id !== undefined) args.target_app_id = typeof o.target_app_id === 'number' ? str(o.target_app_id) : o.target_app_id;
  if (o.metadata !== undefined) args.metadata = o.metadata;
  return args;
}

function makeCtx(pageId) {
  return ObjectFreeze({
    page: ObjectFreeze({ id: pageId }),
    send: (message) => call('send', message),
    // Messenger's handover protocol as this script's app. psid: the person (event.sender.id); opts: {target_app_id,
    // metadata} for pass, {metadata} for the others. owner resolves to the controlling app's id, or null.
    handover: ObjectFreeze({
      pass: (psid, opts) => call('handover', handoverArgs('pass', psid, opts)),
      take: (psid, opts) => call('handover', handoverArgs('take', psid, opts)),
      request: (psid, opts) => call('handover', handoverArgs('request', psid, opts)),
      release: (psid, opts) => call('handover', handoverArgs('release', psid, opts)),
      owner: (psid) => call('handover', handoverArgs('owner', psid, undefined)),
    }),
    // Messenger's Account Unlink API as this script's app: the person's linked account is unlinked.
    unlinkAccount: (psid) => call('account.unlink', { psid: typeof psid === 'number' ? str(psid) : psid }),
    store: ObjectFreeze({
      get: (key) => call('store.get', { key: key }),
      set: (key, value) => call('store.set', { key: key, value: value }),
      delete: (key) => call('store.delete', { key: key }),
    }),
    fetch: (url, init) => {
      let req;
      try { req = fetchRequest(url, init); } catch (e) { return ReflectApply(PromiseCtor.reject, PromiseCtor, [e]); }
      return then(call('fetch', req), makeResponse);
    },
  });
}

function init(ns) {
  const d = ns.default;
  if (d === null || (typeof d !== 'object' && typeof d !== 'function')) return 'the default export must be an object of handlers';
  handlers = d;
  return '';
}

// One ctx per isolate: an isolate serves one Page, ctx is frozen and its calls use the current
// invocation's token, so a ctx kept from an earlier event behaves exactly like a fresh one.
let ctx = null;
let ctxPage = null;
function ctxFor(pageId) {
  if (ctx === null || ctxPage !== pageId) {
    ctx = makeCtx(pageId);
    ctxPage = pageId;
  }
  return ctx;
}

const HANDLED = '{"ok":true,"handled":true}';
const UNHANDLED = '{"ok":true,"handled":false}';

// One entry per event: parse, dispatch, and report through hostDone when the handler settles.
function run(id, name, eventJson, pageId, hostCalls, payloadBytes, logEntries, logBytes) {
  inv = id;
  pending = ObjectCreate(null);
  calls = 0;
  maxCalls = hostCalls;
  maxPayload = payloadBytes;
  logs = 0;
  logChars = 0;
  maxLogs = logEntries;
  maxLogChars = logBytes;
  logOpen = true;
  let out;
  let fn;
  try { fn = handlers[name]; } catch (e) { out = errorJson(e); }
  if (out === undefined) {
    if (typeof fn !== 'function') {
      out = UNHANDLED;
    } else {
      let r;
      try { r = ReflectApply(fn, handlers, [JSONparse(eventJson), ctxFor(pageId)]); } catch (e) { out = errorJson(e); }
      if (out === undefined) {
        // The return value is ignored (never copied out), so a huge or cyclic one costs nothing.
        try {
          whenSettled(r, () => hostDone(id, HANDLED), (e) => hostDone(id, errorJson(e)));
        } catch (e) {
          // Whatever the script redefined that still made this throw is its own failure, reported now.
          hostDone(id, errorJson(e));
        }
        return;
      }
    }
  }
  // Reported after the microtasks the handler already queued, as for a handler that returned.
  try {
    then(toPromise(undefined), () => hostDone(id, out));
  } catch (e) {
    hostDone(id, out);
  }
}

return { init: init, run: run, deliver: deliver };
`;
