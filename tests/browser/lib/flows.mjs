// What every browser test does: one Chromium per file, a throwaway Keydesk and a fresh
// browser context per test, clicks that wait for the next page, the login form.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { launch } from './browser.mjs';
import { startKeydesk } from './keydesk.mjs';

export const WRONG_PASSWORD = 'not-the-password';
export const MAX_FAILED_ATTEMPTS = 5;
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

let browser;
/** Call once at the top of a test file: launches Chromium before its tests, closes it after. */
export function useBrowser() {
  before(async () => { browser = await launch(); });
  after(async () => { await browser?.close(); });
}

/** Start a Keydesk for test t, stopped (and its directory removed) when t ends. */
export async function keydeskFor(t, opts) {
  const kd = await startKeydesk(opts);
  t.after(() => kd.stop());
  return kd;
}

/** A fresh browser context (own cookies) for t, closed when t ends. */
export async function pageFor(t, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport });
  t.after(() => context.close());
  context.setDefaultTimeout(10_000);
  return context.newPage();
}

/** Click something that submits a form or follows a link and wait until the
 *  resulting page has loaded; returns the final (non-redirect) response. */
export async function clickAndLoad(page, locator) {
  const main = page.mainFrame();
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().isNavigationRequest() && r.frame() === main
      && !(r.status() >= 300 && r.status() < 400)),
    page.waitForEvent('framenavigated', { predicate: (f) => f === main }),
    locator.click(),
  ]);
  await page.waitForLoadState('load');
  return response;
}

/** Type the credentials into the login form (the page must show it) and press "Log in". */
export async function submitLogin(page, email, password) {
  const emailBox = page.locator('#email');
  await emailBox.fill('');
  await emailBox.pressSequentially(email);
  await page.locator('#password').pressSequentially(password);
  return clickAndLoad(page, page.getByRole('button', { name: 'Log in', exact: true }));
}

/** Each role's start page after signing in (src/web/landing.rs). */
export const START_PAGES = { agent: '/queue', manager: '/reports', owner: '/org/users', admin: '/org/users' };

/** Log `user` in through the form and check they land on their role's start page. */
export async function logInAs(page, kd, user) {
  await page.goto(kd.url('/login'));
  const response = await submitLogin(page, user.email, user.password);
  assert.equal(response.status(), 200);
  const start = START_PAGES[user.role] ?? '/';
  assert.equal(new URL(page.url()).pathname, start, `${user.email} should land on ${start} after logging in`);
  if (start === '/') assert.equal(await page.locator('h1').innerText(), `Welcome, ${user.name}`);
}

/** Fail to log in as `user` MAX_FAILED_ATTEMPTS times through the form; resolves with the
 *  "Account Locked" email. */
export async function lockOutQuietly(page, kd, user) {
  await page.goto(kd.url('/login'));
  for (let attempt = 1; attempt <= MAX_FAILED_ATTEMPTS; attempt++) {
    const response = await submitLogin(page, user.email, WRONG_PASSWORD);
    assert.equal(response.status(), 200, `failed login ${attempt}`);
    await page.locator('#login-error').waitFor();
  }
  return kd.waitForMail((m) => m.to.includes(user.email) && m.subject === 'Account Locked',
    { what: `"Account Locked" to ${user.email}` });
}

/** A locked user's request to support, as their mail server would deliver it. */
export function request({ from, name, messageId, body }) {
  return [
    `From: ${name} <${from}>`,
    'To: support@keydesk.localhost',
    'Subject: Account locked',
    `Message-ID: <${messageId}>`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\n');
}

/** Reload /queue until ticket rows for every sender in `emails` are there
 *  (intake polls the Maildir every second); returns { email: row id }. */
export async function waitForTickets(page, kd, emails, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.goto(kd.url('/queue'));
    const found = {};
    for (const email of emails) {
      const row = page.locator('table.queue tbody tr', { hasText: email });
      if (await row.count() === 1) found[email] = await row.getAttribute('id');
    }
    if (Object.keys(found).length === emails.length) return found;
    if (Date.now() >= deadline) throw new Error(`tickets from ${emails} not in the queue within ${timeoutMs} ms; found ${JSON.stringify(found)}`);
    await page.waitForTimeout(300);
  }
}

/** The page must not scroll sideways (wide content scrolls in its own box). */
export async function assertNoPageOverflow(page, what) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${what}: page is ${scrollWidth}px wide in a ${clientWidth}px viewport`);
}

/** The flash message's text, on one line. */
export async function flash(page) {
  return (await page.locator('.flash').innerText()).replace(/\s+/g, ' ').trim();
}
