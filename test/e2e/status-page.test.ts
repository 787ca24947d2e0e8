/**
 * Issue 17 end to end: the status page in real headless Chromium (Debian's, driven by
 * playwright-core) against the built daemon, the real engine and a real Git server. With
 * server.token set: without the token the page shows no data and no button, and a forged request
 * is refused; with it the page lists the stacks, turns a broken stack's row `failed` without a
 * reload, shows the history with the why, and "Sync now" starts a run. Strings from Git (a
 * suspension reason, a compose key in an error) render as text.
 *
 * STACKD_SCREENSHOT=path writes a screenshot of the list (the README's).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Browser, type Page, chromium } from 'playwright-core';
import type { StackStatus } from '../../internal/status/index.js';
import { type Daemon, githubPush, startDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';

const SECRET = 'webhook-secret-page-0123456789';
const TOKEN = 'api-token-page-0123456789abcdef';
const WEB_URL = 'https://git.example.test/ops/stacks';
/** What the tests read of the page's globals (the test is compiled with Node's types). */
interface BrowserGlobals {
  document: { documentElement: { scrollWidth: number }; activeElement: { tagName: string } | null };
}
/** Runs in the page if any string from Git were taken as HTML. */
const HOSTILE = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';

describe('the status page in a real browser', () => {
  let h: Harness;
  let d: Daemon;
  let browser: Browser;
  let page: Page;
  /** Every URL the page asked for. */
  const requests: string[] = [];

  const api = async (path: string): Promise<Response> =>
    fetch(`${d.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const stack = async (name: string): Promise<StackStatus> =>
    (await (await api(`/api/v1/stacks/${encodeURIComponent(h.id(name))}`)).json()) as StackStatus;
  const row = (name: string): string => `tr[data-stack="${h.id(name)}"]`;

  beforeAll(async () => {
    h = await Harness.create('page');
    await h.commit({
      'web/compose.yaml': composeFile({ web: {} }),
      'db/compose.yaml': composeFile({ db: {} }),
      // A string from Git that a careless page would run.
      'odd/compose.yaml': `x-stackd:\n  suspend:\n    reason: '${HOSTILE}'\n${composeFile({ s: {} })}`,
    });
    d = await startDaemon(h, {
      STACKD_WEBHOOK_SECRET: SECRET,
      STACKD_API_TOKEN: TOKEN,
      STACKD_SOURCE_POLL_INTERVAL: '0',
      STACKD_SOURCE_WEB_URL: WEB_URL,
    });
    await waitFor(
      'web and db synced',
      async () => {
        const [web, db] = [await stack('web'), await stack('db')];
        return web.status === 'synced' && db.status === 'synced' ? true : undefined;
      },
      90_000,
    );
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on('request', (request) => requests.push(request.url()));
  }, 150_000);

  afterAll(async () => {
    await browser.close().catch(() => undefined);
    await d.stop().catch(() => undefined);
    await h.cleanup();
  });

  it('without the token: no data, no action button, and a forged request is refused', async () => {
    await page.goto(d.url);
    await page.waitForSelector('form.token');
    expect(await page.locator('button', { hasText: 'Sync now' }).count()).toBe(0);
    expect(await page.locator('tr[data-stack]').count()).toBe(0);
    const runsBefore = ((await (await api('/api/v1/runs')).json()) as { runs: unknown[] }).runs.length;
    // What a script on the page (or a page elsewhere) could send without the token.
    const forged = await page.evaluate(async (id) => {
      const sync = await fetch(`/api/v1/stacks/${encodeURIComponent(id)}/sync`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      const form = await fetch(`/api/v1/refresh`, { method: 'POST', body: 'x=1' });
      return [sync.status, form.status];
    }, h.id('web'));
    expect(forged).toEqual([401, 401]);
    const runsAfter = ((await (await api('/api/v1/runs')).json()) as { runs: unknown[] }).runs.length;
    expect(runsAfter).toBe(runsBefore);
  });

  it('with the token: every stack with its status, revision and services', async () => {
    requests.length = 0;
    const started = Date.now();
    await page.goto(d.url);
    await page.fill('#token', TOKEN);
    await page.click('form.token button[type=submit]');
    await page.waitForSelector(`${row('web')}[data-status="synced"]`);
    const firstRender = Date.now() - started;
    expect(await page.getAttribute(row('db'), 'data-status')).toBe('synced');
    expect(await page.getAttribute(row('odd'), 'data-status')).toBe('out_of_sync');
    expect(await page.locator(`${row('odd')} .mark-suspended`).count()).toBe(1);
    // Status in words, not colour alone; the revision links to the commit.
    expect(await page.textContent(`${row('web')} .badge`)).toBe('✓ synced');
    const revision = (await stack('web')).synced?.revision ?? '';
    expect(await page.getAttribute(`${row('web')} a[title="${revision}"]`, 'href')).toBe(
      `${WEB_URL}/commit/${revision}`,
    );
    expect(await page.textContent(`${row('web')} .svcs`)).toContain('web');
    expect(await page.locator(`${row('web')} button`, { hasText: 'Sync now' }).count()).toBe(1);
    await page.waitForSelector('.live-live');
    // The token went in a header, never in a URL.
    expect(requests.some((url) => url.includes(TOKEN))).toBe(false);
    expect(page.url()).not.toContain(TOKEN);
    process.stdout.write(`status page e2e: first render with the token entry ${firstRender} ms\n`);
  });

  it('a cold load (empty cache, token kept in the tab) is small and prints its cost', async () => {
    const session = await page.context().newCDPSession(page);
    await session.send('Network.clearBrowserCache');
    await page.reload();
    await page.waitForSelector(`${row('web')}[data-status="synced"]`);
    const rendered = await page.evaluate(() => performance.now());
    // (Never "network idle": the event stream stays open.)
    const cost = await page.evaluate(() => {
      // Browser types: the test is compiled with Node's.
      const timing = performance as unknown as { getEntriesByType(type: string): unknown[] };
      const entries = [
        ...timing.getEntriesByType('navigation'),
        ...timing.getEntriesByType('resource'),
      ] as unknown as { name: string; transferSize: number; encodedBodySize: number }[];
      return {
        requests: entries.length,
        transfer: entries.reduce((sum, e) => sum + e.transferSize, 0),
        assets: entries
          .filter((e) => !e.name.includes('/api/'))
          .reduce((sum, e) => sum + e.encodedBodySize, 0),
      };
    });
    process.stdout.write(
      `status page e2e: cold load: first render ${Math.round(rendered)} ms after navigation start, ` +
        `${cost.requests} requests, ${cost.transfer} bytes transferred (assets ${cost.assets} bytes, the rest the API and headers)\n`,
    );
    expect(cost.assets).toBeGreaterThan(0);
    expect(cost.assets).toBeLessThan(200 * 1024);
  });

  it('a commit that breaks a stack turns its row failed without a reload', async () => {
    await page.evaluate(() => {
      (globalThis as unknown as { __loaded: boolean }).__loaded = true;
    });
    await h.commit({
      // An unknown key compose names in its error: shown in the message, as text.
      'db/compose.yaml': composeFile({ db: { extra: `'<img src=x onerror="window.__xss=3">': 1` } }),
      'web/compose.yaml': composeFile({ web: { image: 2 } }),
    });
    const pushed = Date.now();
    await githubPush(d.url, SECRET, 'refs/heads/main');
    await page.waitForSelector(`${row('db')}[data-status="failed"]`, { timeout: 10_000 });
    process.stdout.write(`status page e2e: failed row ${Date.now() - pushed} ms after the push\n`);
    // The same page: no reload happened.
    expect(await page.evaluate(() => (globalThis as unknown as { __loaded?: boolean }).__loaded)).toBe(true);
    await page.waitForSelector(`${row('web')}[data-status="synced"]`, { timeout: 60_000 });
    if (process.env['STACKD_SCREENSHOT'] !== undefined)
      await page.screenshot({ path: process.env['STACKD_SCREENSHOT'], fullPage: true });
  });

  it("the stack page shows the history and each apply's why", async () => {
    await page.click(`${row('web')} th a`);
    await page.waitForURL(`**/stacks/${h.id('web')}`);
    await page.waitForSelector('table.history .why li');
    const why = await page.textContent('table.history .why');
    expect(why).toContain('web');
    expect(why).toMatch(/image stackd-test\/busybox:1 → stackd-test\/busybox:2/);
    expect(await page.locator('table.history tbody tr').count()).toBeGreaterThanOrEqual(2);
  });

  it('"Sync now" starts a sync that shows in the runs', async () => {
    const manual = 'table.runs tr[data-trigger="manual"]';
    expect(await page.locator(manual).count()).toBe(0);
    await page.click('.actions button:has-text("Sync now")');
    await page.waitForSelector(manual, { timeout: 30_000 });
    const runs = (await (await api('/api/v1/runs')).json()) as {
      runs: { trigger: string; stacks: { id: string }[] }[];
    };
    expect(runs.runs.some((r) => r.trigger === 'manual' && r.stacks.some((s) => s.id === h.id('web')))).toBe(
      true,
    );
  });

  it('on a phone nothing scrolls sideways; Tab walks the links and buttons', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto(d.url);
    await page.waitForSelector(row('web'));
    expect(
      await page.evaluate(
        () => (globalThis as unknown as BrowserGlobals).document.documentElement.scrollWidth,
      ),
    ).toBeLessThanOrEqual(375);
    const focused: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      focused.push(
        await page.evaluate(
          () => (globalThis as unknown as BrowserGlobals).document.activeElement?.tagName ?? '',
        ),
      );
    }
    expect(focused.every((tag) => tag === 'A' || tag === 'BUTTON')).toBe(true);
    expect(focused).toContain('BUTTON');
    await page.setViewportSize({ width: 1200, height: 800 });
  });

  it('strings from Git render as text (an XSS test)', async () => {
    await page.goto(`${d.url}/stacks/${h.id('odd')}`);
    await page.waitForSelector('article.stack');
    expect(await page.textContent('article.stack dl.facts')).toContain(HOSTILE);
    expect(await page.locator('article.stack img').count()).toBe(0);
    await page.goto(`${d.url}/stacks/${h.id('db')}`);
    await page.waitForSelector('article.stack pre.message');
    expect(await page.textContent('article.stack pre.message')).toContain('<img src=x onerror=');
    expect(await page.locator('article.stack img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });
});
