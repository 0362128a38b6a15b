import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { describeBrowser, launchChromium, saveScreenshot } from '../support/browser';
import { waitFor } from '../support/wait-for';

const ROOT = path.join(__dirname, '..', '..');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

// vite builds web/harness (render.tsx's components drawn from web/harness/fixtures.ts) into a temporary
// directory; a plain file server serves it (anything else is a 404, as an expired media URL is).
async function buildHarness(outDir: string): Promise<void> {
  const vite = path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const child = spawn(process.execPath, [vite, 'build', '--config', 'web/harness/vite.config.ts', '--outDir', outDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`vite build of web/harness failed (${code}):\n${out}`);
}

function serve(dir: string): Promise<http.Server> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    const file = path.join(dir, rel);
    if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile())
      return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

// Where Tab takes the keyboard, from the top of the page, each element once as "<tag>:<accessible name>",
// until focus leaves the page (a video's own controls are several stops inside one element).
async function tabStops(tab: Page, max = 40): Promise<string[]> {
  await tab.evaluate(() => (globalThis as any).document.activeElement?.blur());
  const stops: string[] = [];
  for (let i = 0; i < max; i++) {
    await tab.keyboard.press('Tab');
    const stop = await tab.evaluate(() => {
      const d = (globalThis as any).document;
      const el = d.activeElement;
      if (!el || el === d.body) return null;
      if (el.dataset.visited) return '';
      el.dataset.visited = '1';
      return `${el.tagName.toLowerCase()}:${el.getAttribute('aria-label') ?? el.textContent.trim()}`;
    });
    if (stop === null) break;
    if (stop) stops.push(stop);
  }
  await tab.evaluate(() =>
    (globalThis as any).document.querySelectorAll('[data-visited]').forEach((e: any) => delete e.dataset.visited),
  );
  return stops;
}

const calls = (tab: Page) => tab.evaluate(() => (globalThis as any).__calls as unknown[][]);
const focusedName = (tab: Page) =>
  tab.evaluate(() => {
    const el = (globalThis as any).document.activeElement;
    return el?.getAttribute('aria-label') ?? el?.textContent?.trim();
  });

// The templates and media of web/src/chat/render.tsx, rendered by Preact in chromium from fixtures, checked
// on the DOM: structure, names, what a tap or a key asks of the app, and the keyboard's way through them.
describeBrowser('browser: the chat app’s message components', () => {
  let outDir: string;
  let server: http.Server;
  let base: string;
  let chromium: { context: BrowserContext; close(): Promise<void> };
  let tab: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-harness-'));
    [, chromium] = await Promise.all([buildHarness(outDir), launchChromium(DESKTOP)]);
    server = await serve(outDir);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.html`;
    tab = await chromium.context.newPage();
    tab.on('pageerror', (e) => errors.push(String(e)));
  });
  afterAll(async () => {
    await chromium?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });
  afterEach(() => expect(errors.splice(0)).toEqual([]));

  async function show(fixture: string, viewport = DESKTOP) {
    await tab.setViewportSize(viewport);
    await tab.goto(`${base}?fixture=${fixture}`);
    await tab.getByRole('main', { name: `Fixture ${fixture}` }).waitFor();
  }

  it('generic template: a carousel of named cards, buttons as buttons and links, all reachable by Tab', async () => {
    await show('generic');
    const carousel = tab.getByRole('list', { name: 'Carousel' });
    const cards = carousel.getByRole('listitem');
    expect(await cards.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')))).toEqual([
      'A blue shirt',
      'A red shirt',
      'A plain card',
    ]);
    expect(await cards.nth(0).locator('.card-title').textContent()).toBe('A blue shirt');
    expect(await cards.nth(0).locator('.card-subtitle').textContent()).toBe('Soft cotton, blue');
    // Card images are decorative (the card is named); the default action is a named link.
    expect(await carousel.getByRole('img').count()).toBe(0);
    expect(await carousel.locator('img').count()).toBe(2);
    const open = carousel.getByRole('link', { name: 'Open A blue shirt' });
    expect(await open.getAttribute('href')).toBe('https://shop.example.com/blue');
    const details = carousel.getByRole('link', { name: 'Details' });
    expect(await details.getAttribute('target')).toBe('_blank');
    expect(await details.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await carousel.getByRole('link', { name: 'Call us' }).getAttribute('href')).toBe('tel:+15105551234');
    // A card without an image or buttons is just its text.
    expect(await cards.nth(2).locator('a, button, img').count()).toBe(0);

    expect(await tabStops(tab)).toEqual([
      'a:Open A blue shirt',
      'button:Buy blue',
      'a:Details',
      'button:Buy red',
      'a:Call us',
    ]);
    await carousel.getByRole('button', { name: 'Buy red' }).focus();
    await tab.keyboard.press('Enter');
    await carousel.getByRole('button', { name: 'Buy blue' }).click();
    expect(await calls(tab)).toEqual([
      ['postback', 'Buy red', 'BUY_RED'],
      ['postback', 'Buy blue', 'BUY_BLUE'],
    ]);

    // At phone width the carousel scrolls sideways inside the thread; the page itself does not.
    await show('generic', PHONE);
    const widths = await tab.evaluate(() => {
      const g = globalThis as any;
      const c = g.document.querySelector('.carousel');
      return {
        scroll: c.scrollWidth,
        client: c.clientWidth,
        page: g.document.documentElement.scrollWidth,
        viewport: g.innerWidth,
      };
    });
    expect(widths.scroll).toBeGreaterThan(widths.client);
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    await saveScreenshot(tab, 'components-generic-phone.png');
  });

  it('button template: the text, then its buttons in order, by keyboard too', async () => {
    await show('button');
    const card = tab.locator('.button-template');
    expect(await card.locator('.card-text').textContent()).toBe('Need help?');
    expect(await tabStops(tab)).toEqual(['button:Talk to us', 'a:FAQ']);
    expect(await card.getByRole('link', { name: 'FAQ' }).getAttribute('href')).toBe('https://shop.example.com/faq');
    await card.getByRole('button', { name: 'Talk to us' }).focus();
    await tab.keyboard.press('Space');
    expect(await calls(tab)).toEqual([['postback', 'Talk to us', 'HELP']]);
  });

  it('receipt template: merchant, order, recipient, address, items and the summary, as term and value', async () => {
    await show('receipt');
    const receipt = tab.getByLabel('Receipt');
    expect(await receipt.locator('.receipt-head').innerText()).toMatch(/^Acme\s+Order #A-1001$/);
    const pairs = (sel: string) =>
      receipt
        .locator(sel)
        .evaluate((dl: any) =>
          Array.from(dl.querySelectorAll('dt')).map((dt: any) => [dt.textContent, dt.nextElementSibling.textContent]),
        );
    expect(await pairs('.receipt-meta')).toEqual([
      ['To', 'Pat Person'],
      ['Paid with', 'Visa 1234'],
      ['Ship to', '1 Main St, Springfield 12345, CA US'],
    ]);
    const summary = await pairs('.receipt-summary');
    expect(summary.map(([k]) => k)).toEqual(['Welcome discount', 'Subtotal', 'Shipping', 'Tax', 'Total']);
    // Amounts in the receipt's currency, the discount negative (the digits' format is the browser's locale's).
    expect(summary.map(([, v]) => v.replace(/[^\d.,−-]/g, ''))).toEqual(['-10.00', '55.00', '5.00', '9.00', '59.00']);
    expect(summary.every(([, v]) => v.includes('€'))).toBe(true);
    const items = receipt.locator('.receipt-items > li');
    expect(await items.count()).toBe(2);
    expect(await items.nth(0).innerText()).toMatch(/A green shirt\s+Size M\s+Qty 2\s+€25\.00/);
    expect(await items.nth(1).innerText()).toMatch(/Socks\s+€5\.00/);
    // Nothing in a receipt takes focus.
    expect(await tabStops(tab)).toEqual([]);
  });

  it('media template: the image opens full size in a dialog that takes focus, Escape gives it back', async () => {
    await show('media-template');
    const first = tab.locator('[data-mid="m_media"]');
    const thumb = first.getByRole('button', { name: 'Open image' });
    expect(await thumb.getByRole('img', { name: 'Image' }).count()).toBe(1);
    expect((await tabStops(tab)).slice(0, 2)).toEqual(['button:Open image', 'button:More like this']);
    await thumb.focus();
    await tab.keyboard.press('Enter');
    const dialog = tab.getByRole('dialog', { name: 'Image' });
    await dialog.waitFor();
    expect(await dialog.getAttribute('aria-modal')).toBe('true');
    expect(await dialog.getByRole('img', { name: 'Full size' }).count()).toBe(1);
    // The dialog takes focus in the frame that shows it, and Escape works at once.
    expect(await focusedName(tab)).toBe('Close image');
    await tab.keyboard.press('Escape');
    expect(await tab.getByRole('dialog').count()).toBe(0);
    await waitFor('focus back on the thumbnail', async () => (await focusedName(tab)) === 'Open image');
    await first.getByRole('button', { name: 'More like this' }).click();
    // A video element with controls; its URL does not load, which the message reports.
    const video = tab.locator('[data-mid="m_media_video"] video');
    expect(await video.getAttribute('aria-label')).toBe('Video');
    expect(await video.getAttribute('controls')).not.toBeNull();
    await waitFor('the video’s load error', async () => (await calls(tab)).some((c) => c[1] === 'm_media_video'));
    expect((await calls(tab)).filter((c) => c[0] === 'postback')).toEqual([['postback', 'More like this', 'MORE']]);
  });

  it('attachments: image, video, audio, a file by name, and the person’s photo with its box reserved', async () => {
    await show('attachments');
    expect(await tab.locator('[data-mid="m_image"]').getByRole('button', { name: 'Open image' }).count()).toBe(1);
    expect(await tab.locator('[data-mid="m_video"] video').getAttribute('aria-label')).toBe('Video');
    expect(await tab.locator('[data-mid="m_audio"] audio').getAttribute('aria-label')).toBe('Audio');
    const file = tab.locator('[data-mid="m_file"]').getByRole('link', { name: 'menu card.pdf' });
    expect(await file.getAttribute('href')).toBe('https://files.example.com/menu%20card.pdf');
    expect(await file.getAttribute('target')).toBe('_blank');
    const upload = tab.locator('[data-mid="m_upload"]');
    expect(await upload.locator('.bubble').textContent()).toBe('Our beach');
    const img = upload.getByRole('img', { name: 'Image' });
    expect([await img.getAttribute('width'), await img.getAttribute('height')]).toEqual(['220', '165']);
    const stops = await tabStops(tab);
    expect(stops.filter((s) => /^(button|a):/.test(s))).toEqual([
      'button:Open image',
      'a:menu card.pdf',
      'button:Open image',
    ]);
    await tab.setViewportSize(PHONE);
    await saveScreenshot(tab, 'components-attachments-phone.png');
  });

  it('a media URL that does not load is reported once, with the message, so the app can re-fetch it', async () => {
    await show('broken-media');
    await waitFor('the image’s load error', async () => (await calls(tab)).length > 0);
    expect(await calls(tab)).toEqual([['mediaError', 'm_broken']]);
  });

  it('quick replies: a labelled group of buttons, by keyboard too, images decorative', async () => {
    await show('quick-replies');
    const group = tab.getByRole('group', { name: 'Quick replies' });
    expect(await group.getByRole('button').allTextContents()).toEqual(['Red', 'Blue']);
    expect(await group.getByRole('img').count()).toBe(0);
    expect(await group.locator('img').count()).toBe(1);
    expect(await tabStops(tab)).toEqual(['button:Red', 'button:Blue']);
    await group.getByRole('button', { name: 'Blue' }).focus();
    await tab.keyboard.press('Enter');
    expect(await calls(tab)).toEqual([['quick_reply', 'Blue', 'QR_BLUE']]);
  });

  it('replies: a labelled quote of the message replied to, above the reply; neutral when it is not loaded', async () => {
    await show('replies');
    const quote = (mid: string) => tab.locator(`[data-mid="${mid}"]`).getByRole('blockquote');
    expect(await quote('m_r1').getAttribute('aria-label')).toBe('Replying to you: Do you ship to Spain?');
    expect(await quote('m_r1').innerText()).toMatch(/^Replying to you\s+Do you ship to Spain\?$/);
    expect(await quote('m_r2').getAttribute('aria-label')).toBe('Replying to Acme: a photo');
    expect(await quote('m_r3').getAttribute('aria-label')).toBe('Replying to an earlier message');
    expect(await quote('m_r3').innerText()).toBe('Replying to an earlier message');
    // The quote comes first, the reply's own text after it; silent ones (notification_type) draw the same.
    for (const [mid, text] of [
      ['m_r1', 'Yes, in 3 days'],
      ['m_r2', 'This one is on sale'],
      ['m_r3', 'As I said before'],
    ])
      expect(
        await tab
          .locator(`[data-mid="${mid}"] > *`)
          .evaluateAll((els) => els.map((e) => e.className + '|' + e.textContent)),
      ).toEqual([expect.stringMatching(/^reply-quote/), `bubble|${text}`]);
    expect(await tab.locator('[data-mid="m_q"] blockquote').count()).toBe(0);
    // Quotes take no focus: only the photo's button does.
    expect(await tabStops(tab)).toEqual(['button:Open image']);
    await tab.setViewportSize(PHONE);
    await saveScreenshot(tab, 'components-replies-phone.png');
  });

  it('an unknown template says so instead of breaking', async () => {
    await show('unsupported');
    await tab.locator('[data-mid="m_odd"]').getByText('Unsupported message').waitFor();
  });
});
