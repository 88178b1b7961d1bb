// Lockout and unlock, end to end in a real browser: a member locks their
// account with wrong passwords, an admin (or, under the owner_pin policy, the
// owner with an emailed PIN) unlocks it, and Activities records it all.
// Every test starts its own throwaway Keydesk (lib/keydesk.mjs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertAccessible } from './lib/a11y.mjs';
import { screenshot } from './lib/browser.mjs';
import {
  DESKTOP, MAX_FAILED_ATTEMPTS, PHONE, WRONG_PASSWORD, assertNoPageOverflow, clickAndLoad, keydeskFor, pageFor, submitLogin, useBrowser, logInAs,
} from './lib/flows.mjs';

useBrowser();

const MEMBER = { email: 'mia.member@acme.test', name: 'Mia Member', role: 'member', password: 'mia-correct-horse' };
const ADMIN = { email: 'ada.admin@acme.test', name: 'Ada Admin', role: 'admin', password: 'ada-battery-staple' };
const OWNER = { email: 'otto.owner@acme.test', name: 'Otto Owner', role: 'owner', password: 'otto-owner-secret' };

async function logIn(page, kd, user) {
  await logInAs(page, kd, user);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await nav.getByRole('button', { name: `Log out ${user.name}`, exact: true }).waitFor();
  const manageLinks = await nav.getByRole('link', { name: 'Manage Users' }).count();
  assert.equal(manageLinks, user.role === 'member' ? 0 : 1, `"Manage Users" in the nav of a ${user.role}`);
  await assertAccessible(page, `the home page of a ${user.role}`);
}

/** Fail to log in as user MAX_FAILED_ATTEMPTS times through the form,
 *  checking the error each time; returns the member's "Account Locked" mail. */
async function lockOut(page, kd, user, { onError } = {}) {
  await page.goto(kd.url('/login'));
  await assertAccessible(page, 'the login page');
  for (let attempt = 1; attempt <= MAX_FAILED_ATTEMPTS; attempt++) {
    const response = await submitLogin(page, user.email, WRONG_PASSWORD);
    assert.equal(response.status(), 200, `failed login ${attempt} answers 200`);
    assert.equal(new URL(page.url()).pathname, '/login', `failed login ${attempt} stays on /login`);
    const error = page.locator('#login-error');
    await error.waitFor();
    const text = await error.innerText();
    assert.match(text, /We couldn't log you in with that email address and password\./, `attempt ${attempt}`);
    assert.match(text, new RegExp(`After ${MAX_FAILED_ATTEMPTS} failed attempts in a row an account is locked`));
    assert.match(text, /we have emailed you/);
    if (attempt === 1 || attempt === MAX_FAILED_ATTEMPTS) await assertAccessible(page, `the login error after ${attempt} failures`);
    if (onError) await onError(page, attempt);
  }
  return kd.waitForMail((m) => m.to.includes(user.email) && m.subject === 'Account Locked',
    { what: `"Account Locked" to ${user.email}` });
}

/** The member's row on Manage Users, and its numeric id. */
async function userRow(page, user) {
  const row = page.locator('tbody tr', { has: page.getByRole('cell', { name: user.email, exact: true }) });
  await row.waitFor();
  const id = (await row.getAttribute('id'))?.match(/^user-(\d+)$/)?.[1];
  assert.ok(id, `the row of ${user.email} has an id user-<n>`);
  return { row: page.locator(`tr#user-${id}`), id };
}

async function openManageUsers(page) {
  await clickAndLoad(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Manage Users' }));
  assert.equal(new URL(page.url()).pathname, '/org/users');
  assert.equal(await page.locator('h1').innerText(), 'Manage Users');
  await assertAccessible(page, 'Manage Users');
}

/** The Action column of every row on the Activities page. */
async function activityActions(page) {
  await clickAndLoad(page, page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Activities' }));
  assert.equal(new URL(page.url()).pathname, '/activities');
  await assertAccessible(page, 'Activities');
  const { scrollWidth, clientWidth } = await page.locator('.activity-wrap')
    .evaluate((wrap) => ({ scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth }));
  assert.ok(scrollWidth <= clientWidth, `the activity table (${scrollWidth}px) fits its ${clientWidth}px box: no column cut off`);
  return page.locator('table tbody tr td:nth-child(2)').allInnerTexts();
}

test('a locked-out member is unlocked by an admin', async (t) => {
  const kd = await keydeskFor(t, { users: [MEMBER, ADMIN] });
  const member = await pageFor(t);

  const lockMail = await lockOut(member, kd, MEMBER);
  assert.match(lockMail.text, /Your account has been locked after too many login attempts\./);
  const adminMail = await kd.waitForMail((m) => m.to.includes(ADMIN.email),
    { what: `the lock notice to ${ADMIN.email}` });
  assert.equal(adminMail.subject, `${MEMBER.name}'s account is locked`);

  // Locked: even the right password no longer gets in.
  const refused = await submitLogin(member, MEMBER.email, MEMBER.password);
  assert.equal(refused.status(), 200);
  assert.equal(new URL(member.url()).pathname, '/login');
  await member.locator('#login-error').waitFor();

  // The admin, in a browser context of their own, unlocks the member.
  const admin = await pageFor(t);
  await logIn(admin, kd, ADMIN);
  await openManageUsers(admin);
  const { row, id } = await userRow(admin, MEMBER);
  assert.equal(await row.locator('.status-locked').innerText(), 'Locked');
  const key = row.locator('a.unlock-key');
  assert.equal(await key.getAttribute('aria-label'), `Unlock ${MEMBER.name}`);
  await clickAndLoad(admin, row.getByRole('button', { name: `Unlock ${MEMBER.name}`, exact: true }));
  assert.equal(new URL(admin.url()).pathname, `/org/users/${id}/unlock`);

  const confirm = admin.locator('#confirm-unlock');
  assert.equal((await confirm.innerText()).trim(), 'Unlock');
  await assertAccessible(admin, 'the unlock confirmation');
  await clickAndLoad(admin, confirm);
  assert.equal(new URL(admin.url()).pathname, '/org/users');
  assert.match(await admin.locator('.flash.success').innerText(), /^Done:\s*Account unlocked/);
  assert.equal(await admin.locator(`tr#user-${id} .status-active`).innerText(), 'Active');
  assert.equal(await admin.locator(`tr#user-${id} .unlock-key`).count(), 0, 'no key icon once unlocked');
  await assertAccessible(admin, 'Manage Users after an unlock');

  const unlockedMail = await kd.waitForMail(
    (m) => m.to.includes(MEMBER.email) && m.subject === 'Your account has been unlocked',
    { what: `"Your account has been unlocked" to ${MEMBER.email}` });
  assert.match(unlockedMail.text, /Forgot Password/);

  // The member gets back in with their password.
  await logIn(member, kd, MEMBER);

  const actions = await activityActions(admin);
  assert.ok(actions.includes('Login failed'), `Activities lists "Login failed": ${actions}`);
  assert.ok(actions.includes('Account locked'), `Activities lists "Account locked": ${actions}`);
  assert.ok(actions.includes('Account unlocked'), `Activities lists "Account unlocked": ${actions}`);
});

test('under owner_pin only the owner unlocks, with an emailed PIN', async (t) => {
  const kd = await keydeskFor(t, { unlockPolicy: 'owner_pin', users: [OWNER, ADMIN, MEMBER] });
  const member = await pageFor(t);
  await lockOut(member, kd, MEMBER);

  // The admin sees a greyed-out key they cannot use.
  const admin = await pageFor(t);
  await logIn(admin, kd, ADMIN);
  await openManageUsers(admin);
  const adminView = await userRow(admin, MEMBER);
  assert.equal(await adminView.row.locator('.status-locked').innerText(), 'Locked');
  assert.equal(await adminView.row.locator('a.unlock-key').count(), 0, 'no unlock link for an admin');
  const disabledKey = adminView.row.locator('button.icon-button[disabled]');
  assert.equal(await disabledKey.count(), 1);
  assert.match(await disabledKey.getAttribute('aria-label'), /only the owner can unlock/);
  assert.ok(await disabledKey.isDisabled());
  for (const notified of [OWNER, ADMIN]) {
    const notice = await kd.waitForMail((m) => m.to.includes(notified.email),
      { what: `the lock notice to ${notified.email}` });
    assert.equal(notice.subject, `${MEMBER.name}'s account is locked`);
  }

  // Going round the disabled key does not help the admin either.
  await admin.goto(kd.url(`/org/users/${adminView.id}/unlock`));
  assert.equal(await admin.locator('#confirm-unlock').count(), 0, 'no unlock button for an admin');
  assert.match(await admin.locator('main').innerText(), /Only the organisation's owner can unlock accounts\./);
  await assertAccessible(admin, 'the unlock page refused to an admin under owner_pin');
  const csrf = await admin.locator('input[name=csrf_token]').first().getAttribute('value');
  const forced = await admin.request.post(kd.url(`/org/users/${adminView.id}/unlock`),
    { form: { csrf_token: csrf }, maxRedirects: 0 });
  // Refused the usual way: back to the list with an error flash.
  assert.equal(forced.status(), 303, `POST /org/users/${adminView.id}/unlock by an admin under owner_pin`);
  assert.equal(forced.headers().location, '/org/users');
  await admin.goto(kd.url('/org/users'));
  assert.match(await admin.locator('.flash.error').innerText(), /Only the organisation's owner can unlock accounts/);
  await assertAccessible(admin, 'Manage Users with an error flash');
  assert.equal(await admin.locator(`tr#user-${adminView.id} .status-locked`).innerText(), 'Locked');

  // The owner asks for a PIN.
  const owner = await pageFor(t);
  await logIn(owner, kd, OWNER);
  await openManageUsers(owner);
  const { row, id } = await userRow(owner, MEMBER);
  await clickAndLoad(owner, row.locator('a.unlock-key'));
  const confirm = owner.locator('#confirm-unlock');
  assert.equal((await confirm.innerText()).trim(), 'Unlock: email me a PIN');
  await clickAndLoad(owner, confirm);
  assert.equal(new URL(owner.url()).pathname, `/org/users/${id}/unlock/pin`);

  const pinMail = await kd.waitForMail((m) => m.to.includes(OWNER.email) && m.subject === 'User Account Unlock',
    { what: `"User Account Unlock" to ${OWNER.email}` });
  assert.match(pinMail.text, new RegExp(`Use this PIN to unlock the account of this employee: ${MEMBER.name}\\.`));
  const pin = pinMail.text.match(/^\s*(\d{6})\s*$/m)?.[1];
  assert.ok(pin, `a 6-digit PIN line in:\n${pinMail.text}`);

  const pinBox = owner.getByLabel('Please enter the PIN code to unlock the account.');
  assert.equal(await pinBox.getAttribute('id'), 'pin');
  await assertAccessible(owner, 'the PIN page');

  // A wrong PIN first.
  const wrongPin = String((Number(pin) + 1) % 1_000_000).padStart(6, '0');
  await pinBox.pressSequentially(wrongPin);
  await clickAndLoad(owner, owner.getByRole('button', { name: 'Unlock', exact: true }));
  assert.match(await owner.locator('.flash').innerText(), /Wrong PIN\. 4 tries left\./);
  assert.equal(await owner.locator('#pin').count(), 1, 'the PIN form is shown again');
  await assertAccessible(owner, 'the PIN page after a wrong PIN');

  // Then the right one.
  await owner.getByLabel('Please enter the PIN code to unlock the account.').pressSequentially(pin);
  await clickAndLoad(owner, owner.getByRole('button', { name: 'Unlock', exact: true }));
  assert.equal(new URL(owner.url()).pathname, '/org/users');
  assert.match(await owner.locator('.flash.success').innerText(), /^Done:\s*Account unlocked/);
  assert.equal(await owner.locator(`tr#user-${id} .status-active`).innerText(), 'Active');

  await kd.waitForMail((m) => m.to.includes(MEMBER.email) && m.subject === 'Your account has been unlocked',
    { what: `"Your account has been unlocked" to ${MEMBER.email}` });
  await logIn(member, kd, MEMBER);

  const actions = await activityActions(owner);
  assert.ok(actions.includes('Account unlock failed'), `Activities lists "Account unlock failed": ${actions}`);
  assert.ok(actions.includes('Account unlocked'), `Activities lists "Account unlocked": ${actions}`);
});

test('screenshots: login error, locked user list, PIN page', async (t) => {
  const kd = await keydeskFor(t, { unlockPolicy: 'owner_pin', users: [OWNER, ADMIN, MEMBER] });
  const member = await pageFor(t, DESKTOP);
  await lockOut(member, kd, MEMBER, {
    onError: async (page, attempt) => {
      if (attempt === MAX_FAILED_ATTEMPTS) await screenshot(page, 'login-error');
    },
  });

  const owner = await pageFor(t, DESKTOP);
  await logIn(owner, kd, OWNER);
  await openManageUsers(owner);
  const { id } = await userRow(owner, MEMBER);
  await screenshot(owner, 'manage-users-locked');

  await owner.setViewportSize(PHONE);
  await owner.reload();
  // Still a table to assistive technology, with the key in the member's row.
  const phoneView = await userRow(owner, MEMBER);
  assert.equal(phoneView.id, id);
  await phoneView.row.getByRole('button', { name: `Unlock ${MEMBER.name}`, exact: true }).waitFor();
  await screenshot(owner, 'manage-users-locked-phone');
  await assertNoPageOverflow(owner, 'Manage Users at 375px');
  await assertAccessible(owner, 'Manage Users on a phone');

  await clickAndLoad(owner, owner.locator(`tr#user-${id} a.unlock-key`));
  await clickAndLoad(owner, owner.locator('#confirm-unlock'));
  assert.equal(new URL(owner.url()).pathname, `/org/users/${id}/unlock/pin`);
  await owner.locator('#pin').waitFor();
  await screenshot(owner, 'unlock-pin-phone');
  await assertNoPageOverflow(owner, 'the PIN page at 375px');
  await assertAccessible(owner, 'the PIN page on a phone');
});
