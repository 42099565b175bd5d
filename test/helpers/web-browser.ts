/**
 * A headless Chromium for the web UI's end-to-end tests: Debian's `chromium` driven by
 * playwright-core (no browser download), a fresh profile per launch, screenshots into
 * `test-results/` (gitignored), and the UI built into web/dist first when it is not.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.STEWARD_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const RESULTS = path.join(ROOT, 'test-results');

/** Builds web/dist when it is missing (a checkout where only `tsc` ran). */
export function ensureWebBuilt(): void {
  if (fs.existsSync(path.join(ROOT, 'web', 'dist', 'index.html'))) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
}

export interface WebBrowser {
  browser: Browser;
  /** A new context (own storage) at this viewport, signed in with `token` when given. */
  context(opts?: { token?: string; width?: number; height?: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<WebBrowser> {
  // launch() gives the browser a fresh temporary profile (user data dir) of its own, removed on close.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    async context(opts = {}) {
      const ctx = await browser.newContext({ viewport: { width: opts.width ?? 1280, height: opts.height ?? 860 }, deviceScaleFactor: 1 });
      if (opts.token) await ctx.addInitScript((t) => window.sessionStorage.setItem('steward.token', t), opts.token);
      return ctx;
    },
    async close() {
      await browser.close();
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Loads `url` in a fresh page and returns the milliseconds from navigation start until
 * `selector` first appears in the DOM (observed in the page, so polling adds nothing), and the
 * cumulative layout shift (Chromium's layout-shift entries) until a moment after it did.
 */
export async function firstPaintOf(ctx: BrowserContext, url: string, selector: string): Promise<{ ms: number; layoutShift: number }> {
  const page = await ctx.newPage();
  await page.addInitScript((sel) => {
    const w = window as unknown as { __firstPaint?: number; __shift: number };
    w.__shift = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as unknown as { value: number; hadRecentInput: boolean }[]) if (!e.hadRecentInput) w.__shift += e.value;
    }).observe({ type: 'layout-shift', buffered: true });
    new MutationObserver((_m, obs) => {
      if (w.__firstPaint === undefined && document.querySelector(sel)) {
        w.__firstPaint = performance.now();
        obs.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  }, selector);
  await page.goto(url);
  await page.waitForSelector(selector);
  // The rest of the page (filters' options, the approvals count) settles within a few frames.
  await page.waitForTimeout(300);
  const out = await page.evaluate(() => {
    const w = window as unknown as { __firstPaint: number; __shift: number };
    return { ms: w.__firstPaint, layoutShift: w.__shift };
  });
  await page.close();
  return out;
}
