// A real Chromium for the console tests, driven by playwright-core: Debian's `chromium` package
// (playwright's own browser downloads cannot work on a closed network). Tests skip with the
// install command when it is missing.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { Browser, Page } from 'playwright-core';

/** CHROMIUM_PATH overrides the Debian location. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The reason to skip (string) or false when a browser is there. */
export function browserMissing(): string | false {
  return existsSync(CHROMIUM_PATH) ? false : `no Chromium at ${CHROMIUM_PATH}: install it with \`apt-get install chromium\` (or set CHROMIUM_PATH)`;
}

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // playwright gives the browser a fresh profile directory of its own and removes it on close.
  // Chromium's own background connections (updates, sync, QUIC probes) are switched off: this
  // network refuses them, and the console needs none.
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Where screenshots go: test-results/console/ under the working directory (the checkout). */
export const SCREENSHOT_DIR = path.resolve('test-results', 'console');

/**
 * The viewport as a PNG. Not `fullPage`: that re-lays the page out at its full height and costs
 * seconds on a loaded machine; the tests' viewport is tall enough for every page.
 */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Wide and tall enough for the overview with its charts. */
export const VIEWPORT = { width: 1440, height: 1120 };

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs` with `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = undefined;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Polls until what the page shows equals what the API answers (both read in the same round:
 * under load, leadership, terms and node liveness may move between two reads), returning it;
 * fails after `timeoutMs` with the last pair.
 */
export async function agree<T>(what: string, shown: () => Promise<T>, api: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const seen: { last?: { shown: T; api: T } } = {};
  try {
    return await eventually(
      what,
      async () => {
        const pair = { api: await api(), shown: await shown() };
        seen.last = pair;
        return isDeepStrictEqual(pair.shown, pair.api) ? pair.shown : undefined;
      },
      timeoutMs,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}; last shown ${JSON.stringify(seen.last?.shown)}, API ${JSON.stringify(seen.last?.api)}`);
  }
}
