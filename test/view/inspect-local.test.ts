/**
 * `npm run inspect -- --local --no-open --port N` serves the self-hosted view: a browser sees the live
 * workflows drawn from the package's own assets, with no request leaving loopback; SIGTERM stops it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { chromiumPath, collectErrors, guardLoopback, launch } from './browser.js';

const ROOT = new URL('../../', import.meta.url).pathname;

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}

describe.skipIf(!chromiumPath)('npm run inspect -- --local (Chromium)', () => {
  const children: Array<ReturnType<typeof spawn>> = [];
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('serves the live view on 127.0.0.1:N and stops on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn('npm', ['run', '--silent', 'inspect', '--', '--local', '--no-open', '--port', String(port)], {
      cwd: ROOT,
      env: { ...process.env, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk) => (output += String(chunk)));
    child.stderr!.on('data', (chunk) => (output += String(chunk)));
    await expect.poll(() => output, { timeout: 20_000 }).toContain(`Statechart view: http://127.0.0.1:${port}/`);

    const browser = await launch();
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const outside = await guardLoopback(page);
      const errors = collectErrors(page);
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForSelector('article[data-machine-id="order"] svg.chart', { timeout: 20_000 });
      await page.waitForSelector('article[data-machine-id="dispute"] svg.chart', { timeout: 20_000 });
      expect(await page.locator('#connection').textContent()).toBe('connected');
      expect(outside).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
    // npm passes the signal on to the script
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(output).toContain('Stopped.');
  }, 90000);
});
