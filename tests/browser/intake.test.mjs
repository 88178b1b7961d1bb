// The mail intake page in a real browser: a message nobody can answer is quarantined; an
// agent finds it on /intake at a laptop's width and on a phone, with Re-process and
// Discard in view, is warned that no mail server is trusted, and discards it only after
// the confirmation page. The operator's home page shows whether mail flows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertAccessible } from './lib/a11y.mjs';
import { screenshot } from './lib/browser.mjs';
import { assertNoPageOverflow, clickAndLoad, flash, keydeskFor, pageFor, submitLogin, useBrowser } from './lib/flows.mjs';

useBrowser();

const AGENT = { email: 'agnes.agent@support.test', name: 'Agnes Agent', role: 'agent', password: 'agnes-battery-staple' };
const OPERATOR = { email: 'otis.operator@support.test', name: 'Otis Operator', role: 'operator', password: 'otis-runs-the-server' };
const LAPTOP = { width: 1366, height: 768 };
const PHONE_390 = { width: 390, height: 844 };

/** A message without a From header: nobody to answer, so it is quarantined. */
const NO_SENDER = [
  'To: support@keydesk.localhost',
  'Subject: Account locked, please help (sent from a kiosk that strips the sender)',
  'Message-ID: <no-sender-1@kiosk.test>',
  `Date: ${new Date().toUTCString()}`,
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'My account is locked.',
  '',
].join('\n');

async function signIn(page, kd, user) {
  await page.goto(kd.url('/login'));
  const response = await submitLogin(page, user.email, user.password);
  assert.equal(response.status(), 200, `${user.email} signs in`);
}

/** Reload /intake until the quarantined message is listed; returns its article. */
async function quarantined(page, kd) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    await page.goto(kd.url('/intake'));
    const entry = page.locator('article.ledger-entry[id^="quarantined-"]');
    if (await entry.count() === 1) return entry;
    if (Date.now() > deadline) throw new Error('the message without a sender was not quarantined within 15 s');
    await page.waitForTimeout(300);
  }
}

/** The element is entirely inside the viewport's width (not cut off, no sideways scroll). */
async function assertInView(page, locator, what) {
  const box = await locator.boundingBox();
  const width = page.viewportSize().width;
  assert.ok(box && box.x >= 0 && box.x + box.width <= width, `${what}: ${JSON.stringify(box)} in a ${width}px viewport`);
  const size = await locator.evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  assert.ok(size >= 14, `${what}: ${size}px text`);
}

test('an agent re-processes or discards a quarantined message, on a laptop and on a phone', async (t) => {
  const kd = await keydeskFor(t, { users: [AGENT, OPERATOR] });
  await kd.dropMail(NO_SENDER);

  const agent = await pageFor(t, LAPTOP);
  await signIn(agent, kd, AGENT);
  const entry = await quarantined(agent, kd);
  assert.match(await entry.locator('.reason').innerText(), /cannot be answered/);
  assert.match(await entry.locator('dl').innerText(), /From\s+\(none\)/, 'a missing sender says so');
  assert.match(await agent.locator('#trusted-authserv-warning').innerText(),
    /No trusted mail server configured: identity check 5 .* cannot pass.*Set verification\.trusted_authserv_id/s);
  for (const name of ['Download', 'Re-process', 'Discard…']) {
    await assertInView(agent, entry.getByRole('button', { name }), `${name} at 1366px`);
  }
  await assertNoPageOverflow(agent, '/intake at 1366px');
  await assertAccessible(agent, 'the intake page');

  const phone = await pageFor(t, PHONE_390);
  await signIn(phone, kd, AGENT);
  const onPhone = await quarantined(phone, kd);
  for (const name of ['Download', 'Re-process', 'Discard…']) {
    await assertInView(phone, onPhone.getByRole('button', { name }), `${name} at 390px`);
  }
  await assertNoPageOverflow(phone, '/intake at 390px');
  await assertAccessible(phone, 'the intake page on a phone');
  await screenshot(phone, 'intake-phone');

  // Re-processing cannot help a message without a sender: it stays.
  await clickAndLoad(agent, entry.getByRole('button', { name: 'Re-process' }));
  assert.match(await flash(agent), /^Error: Still cannot be taken in: cannot be answered/);

  // Discard asks first; "Keep it" keeps it.
  await clickAndLoad(agent, entry.getByRole('button', { name: 'Discard…' }));
  assert.equal(await agent.locator('h1').innerText(), 'Discard this message?');
  await assertAccessible(agent, 'the discard confirmation');
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Keep it' }));
  assert.equal(await agent.locator('article.ledger-entry[id^="quarantined-"]').count(), 1, 'kept');
  await clickAndLoad(agent, agent.locator('article.ledger-entry[id^="quarantined-"]').getByRole('button', { name: 'Discard…' }));
  await clickAndLoad(agent, agent.locator('#confirm-discard'));
  assert.match(await flash(agent), /^Done: Discarded\./);
  assert.equal(await agent.locator('#quarantine-empty').count(), 1);
  await assertAccessible(agent, 'the intake page after a discard');
});

test('the operator\'s home page says whether mail flows', async (t) => {
  const kd = await keydeskFor(t, { users: [OPERATOR] });
  const operator = await pageFor(t, LAPTOP);
  await signIn(operator, kd, OPERATOR);
  await operator.goto(kd.url('/'));
  // Intake passes every second here; wait for the first.
  for (let tries = 0; !/Last successful pass: \d{4}-/.test(await operator.locator('#health-intake').innerText()); tries++) {
    assert.ok(tries < 50, `an intake pass within 15 s:\n${await operator.locator('#health-intake').innerText()}`);
    await operator.waitForTimeout(300);
    await operator.reload();
  }
  assert.match(await operator.locator('#health-intake').innerText(), /No errors/);
  assert.match(await operator.locator('#outbox-queued').innerText(), /^\d+$/);
  assert.match(await operator.locator('#outbox-failing').innerText(), /^None failing$|^\d+ failing$/);
  assert.match(await operator.locator('#health-outbox').innerText(), /Last delivered: /);
  assert.equal(await operator.locator('#trusted-authserv-warning').count(), 1);
  await assertAccessible(operator, 'the operator\'s home page');
  await operator.setViewportSize(PHONE_390);
  await assertNoPageOverflow(operator, 'the operator\'s home at 390px');
  await assertAccessible(operator, 'the operator\'s home page on a phone');
});
