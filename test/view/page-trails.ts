import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export interface Trails {
  /** The highlighted cancel-order status, each change once, in order. */
  status: string[];
  /** The deadline's countdown text, each change once, in order. */
  countdown: string[];
}

/**
 * Records in the page, on every DOM change, the label of the deepest highlighted (active) labelled
 * state of the cancel order's chart, and the countdown of one deadline (pending, then fired).
 */
export async function installTrails(page: Page, deadline: string, machineId = 'cancellation'): Promise<void> {
  await page.evaluate(
    ({ deadline, machineId }) => {
      const trails = { status: [] as string[], countdown: [] as string[] };
      (window as unknown as { __trails: typeof trails }).__trails = trails;
      const push = (list: string[], value: string | null | undefined) => {
        if (value && list.at(-1) !== value) list.push(value);
      };
      const record = () => {
        const articles = document.querySelectorAll(`article[data-machine-id="${machineId}"]`);
        const article = articles[articles.length - 1];
        const active = article ? [...article.querySelectorAll('svg g.state.active[data-label-zh-cn]')] : [];
        push(trails.status, active.at(-1)?.getAttribute('data-label-zh-cn'));
        const pending = document.querySelector(`#deadlines tr.pending[data-deadline="${deadline}"] td.remaining`);
        const fired = document.querySelector(`#deadlines tr.fired[data-deadline="${deadline}"] td.remaining`);
        push(trails.countdown, (pending ?? fired)?.textContent);
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
      record();
    },
    { deadline, machineId },
  );
}

export async function readTrails(page: Page): Promise<Trails> {
  return page.evaluate(() => (window as unknown as { __trails: Trails }).__trails);
}

/** Waits until the cancel order's highlighted status is `label`. */
export async function waitForStatus(page: Page, label: string, machineId = 'cancellation'): Promise<void> {
  await expect
    .poll(
      () =>
        page.evaluate((machineId) => {
          const articles = document.querySelectorAll(`article[data-machine-id="${machineId}"]`);
          const article = articles[articles.length - 1];
          const active = article ? [...article.querySelectorAll('svg g.state.active[data-label-zh-cn]')] : [];
          return active.at(-1)?.getAttribute('data-label-zh-cn') ?? null;
        }, machineId),
      { timeout: 20_000 },
    )
    .toBe(label);
}
