// Debian's headless Chromium driven by puppeteer-core, for the pages people use: one browser per
// test file (with the database, the calls fixture and the real tracking server the page tests
// share), a phone-sized page (390 px wide, touch), and what has the keyboard's focus.
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { pino } from 'pino';
import { tempDir } from './csv.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { SECRET, createCampaignFixture, type Fixture } from './calls-fixture.ts';
import { assignCallTasks } from '../../pipeline/calls/call-tasks.ts';
import { startTrackingServer, type TrackingServer } from '../../server/tracking-server.ts';

export function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    userDataDir: join(tempDir(), 'chromium-profile'),
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
}

export async function phonePage(browser: Browser): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
  return page;
}

/** The focused element as TAG:name:text, e.g. INPUT:q: or BUTTON::查找客户. */
export async function focused(page: Page): Promise<string> {
  // What the person sees: `autofocus` is applied at the browser's next rendering step, which on a
  // busy machine can come after the load event, so let two frames render first.
  await page.evaluate(
    'new Promise((done) => { requestAnimationFrame(() => requestAnimationFrame(done)); setTimeout(done, 2000); })',
  );
  return (await page.evaluate(
    "(e => e ? `${e.tagName}:${e.getAttribute('name') ?? ''}:${e.textContent ?? ''}` : '')(document.activeElement)",
  )) as string;
}

/** Nothing wider than the phone's screen. */
export async function pageWidth(page: Page): Promise<number> {
  return (await page.evaluate('document.documentElement.scrollWidth')) as number;
}

export interface PagesFixture {
  db: TestDatabase;
  f: Fixture;
  server: TrackingServer;
  /** The server's address, e.g. http://127.0.0.1:40123. */
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/**
 * What the page tests work on: a fresh database with the calls fixture's campaign and its call
 * tasks assigned (due in a week), the real tracking server on a free port, and a browser.
 */
export async function pagesFixture(
  slug: string,
  opts: { dir: string; applianceStock?: number },
): Promise<PagesFixture> {
  const db = await createTestDatabase();
  const f = await createCampaignFixture(db.sql, slug, opts);
  await assignCallTasks(db.sql, {
    campaignId: f.campaignId,
    wave: 'calls',
    fromCustomerId: 0,
    toCustomerId: Number.MAX_SAFE_INTEGER,
    unassigned: '网点主任',
    dueAt: new Date(Date.now() + 7 * 86_400_000),
  });
  const server = await startTrackingServer({
    sql: db.sql,
    secret: SECRET,
    trackingUrl: 'http://127.0.0.1',
    log: pino({ level: 'silent' }),
    port: 0,
    host: '127.0.0.1',
  });
  const browser = await launchBrowser();
  return {
    db,
    f,
    server,
    base: server.url,
    browser,
    async close() {
      await browser.close();
      await server.close();
      await db.drop();
    },
  };
}
