/**
 * The coverage report as a page, in a real browser: every transition of the report is drawn (the count
 * equals the report's total), an uncovered one is drawn as uncovered, and a transition's covering paths
 * are listed with their rule IDs. The page is one file that makes no request at all.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCoverage, type CoverageRun } from '../../src/coverage/index.js';
import { renderCoverageHtml } from '../../src/view/index.js';
import { chromiumPath, collectErrors, guardLoopback, launch } from './browser.js';
import { toyMachine, withUnreachableState } from './toy.js';

const REPORTS = new URL('../../reports/view/', import.meta.url);

async function openReport(browser: Browser, name: string, run: CoverageRun): Promise<{ page: Page; outside: string[]; errors: string[] }> {
  const file = new URL(`${name}.html`, REPORTS);
  writeFileSync(file, await renderCoverageHtml([{ coverage: run.coverage, pathSet: run.pathSet }], { title: name }));
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const outside = await guardLoopback(page);
  const errors = collectErrors(page);
  await page.goto(file.href);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, outside, errors };
}

describe.skipIf(!chromiumPath)('coverage page (Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    mkdirSync(REPORTS, { recursive: true });
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('draws every transition of the report, all covered, with the paths and rule IDs of a chosen one', async () => {
    const run = runCoverage(toyMachine);
    expect(run.coverage.transitions).toEqual({ covered: 9, total: 9 });
    const { page, outside, errors } = await openReport(browser, 'coverage-toy', run);
    const drawn = page.locator('section[data-entry="toy"] g.transition[data-transition-id]');
    expect(await drawn.count()).toBe(run.coverage.transitions.total);
    expect(await page.locator('section[data-entry="toy"] g.transition.uncovered').count()).toBe(0);
    expect(await page.locator('#summary td.transitions-total').getAttribute('data-total')).toBe(String(run.coverage.transitions.total));

    const guarded = 'toy.working.payment.unpaid|pay|0';
    await page.locator(`g.transition[data-transition-id="${guarded}"]`).click();
    const listed = page.locator('#covering-paths li');
    const expected = run.pathSet.paths.filter((path) => path.steps.some((step) => step.transitions.some((t) => t.id === guarded)));
    expect(expected.length).toBeGreaterThan(0);
    expect(await listed.count()).toBe(expected.length);
    expect(await listed.first().textContent()).toContain('R2');
    await page.screenshot({ path: new URL('coverage-toy.png', REPORTS).pathname, fullPage: true });
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  }, 90000);

  it('draws the transition of an unreachable state (mutated machine) as uncovered', async () => {
    const run = runCoverage(withUnreachableState(toyMachine));
    expect(run.coverage.transitions).toEqual({ covered: 9, total: 10 });
    const { page, outside, errors } = await openReport(browser, 'coverage-mutant', run);
    expect(await page.locator('section[data-entry="toy"] g.transition[data-transition-id]').count()).toBe(run.coverage.transitions.total);
    const uncovered = page.locator('section[data-entry="toy"] g.transition.uncovered');
    expect(await uncovered.evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-transition-id')))).toEqual(['toy.limbo|start|0']);
    expect(await uncovered.first().getAttribute('class')).toContain('heat-0');
    expect(await page.locator('.uncovered-list li', { hasText: 'toy.limbo|start|0' }).count()).toBe(1);
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  }, 90000);
});
