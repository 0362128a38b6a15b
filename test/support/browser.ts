import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';

// Debian's chromium, installed by .ci/run (apt-get install chromium); playwright-core never downloads a browser.
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = fs.existsSync(CHROMIUM);
export const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');

// `describe` when chromium is there, otherwise a skip that says why (the only reason to skip).
export const describeBrowser: jest.Describe = hasChromium
  ? describe
  : (((name: string, fn: () => void) =>
      describe.skip(
        `${name} — SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium, as .ci/run does)`,
        fn,
      )) as jest.Describe);

// A new empty profile each launch (playwright passes it to chromium as --user-data-dir).
export async function launchChromium(
  viewport = { width: 1280, height: 800 },
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-chromium-'));
  // The machine notes' flags: without the background-networking ones chromium dials Google on a closed network.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

function artifact(name: string): string {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}

// A screenshot is an artifact for people to look at, not an assertion. Headless chromium now and then answers
// "Unable to capture screenshot" (once in CI, right after a viewport change), so it is tried three times, then
// skipped with a warning rather than failing the behaviour the test has already checked.
export async function saveScreenshot(tab: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await tab.screenshot({ path: artifact(name), ...options });
      return;
    } catch (err) {
      if (attempt === 3) {
        console.warn(`screenshot ${name} not saved: ${(err as Error).message}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}
