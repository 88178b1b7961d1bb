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

/** Log `user` in through the form and check they land on the start page. */
export async function logInAs(page, kd, user) {
  await page.goto(kd.url('/login'));
  const response = await submitLogin(page, user.email, user.password);
  assert.equal(response.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/', `${user.email} should land on / after logging in`);
  assert.equal(await page.locator('h1').innerText(), `Welcome, ${user.name}`);
}
