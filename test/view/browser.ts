/**
 * Headless Chromium from Debian for the view's browser tests, driven by playwright-core (no browser
 * download). Without a browser the tests skip with a warning; `JD_DISPUTE_REQUIRE_BROWSER=1` (CI, see
 * .ci/chromium.sh) turns the skip into a failure.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** `JD_DISPUTE_CHROMIUM` names the browser; without it, Debian's and the usual places are tried. */
const CANDIDATES = process.env.JD_DISPUTE_CHROMIUM
  ? [process.env.JD_DISPUTE_CHROMIUM]
  : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export const chromiumPath: string | undefined = CANDIDATES.find((path) => existsSync(path));
export const requireBrowser = process.env.JD_DISPUTE_REQUIRE_BROWSER === '1';

if (!chromiumPath) {
  const message = 'no Chromium found (apt-get install chromium, or set JD_DISPUTE_CHROMIUM)';
  if (requireBrowser) throw new Error(`JD_DISPUTE_REQUIRE_BROWSER=1 but ${message}`);
  console.warn(`⚠ skipping the statechart view's browser tests: ${message}`);
}

export async function launch(extraArgs: string[] = []): Promise<Browser> {
  if (!chromiumPath) throw new Error('no Chromium');
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', ...extraArgs] });
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLoopbackUrl(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol === 'data:' || parsed.protocol === 'blob:' || parsed.protocol === 'about:') return true;
  if (parsed.protocol === 'file:') return true;
  return LOOPBACK.has(parsed.hostname);
}

/**
 * Every request the page makes that leaves the machine is aborted and recorded: the tests assert the
 * list is empty (or, for the Stately relay page, holds only the hosted inspector it embeds).
 */
export async function guardLoopback(page: Page): Promise<string[]> {
  const outside: string[] = [];
  await page.context().route('**/*', async (route) => {
    const url = route.request().url();
    if (isLoopbackUrl(url)) await route.continue();
    else {
      outside.push(url);
      await route.abort('blockedbyclient');
    }
  });
  page.on('websocket', (socket) => {
    if (!isLoopbackUrl(socket.url().replace(/^ws/, 'http'))) outside.push(socket.url());
  });
  return outside;
}

/** Page errors and console errors: a test fails on any. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  return errors;
}
