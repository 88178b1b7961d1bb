// A second factor for the people who unlock, end to end in a real browser: an agent's first
// sign-in leads to setting up an authenticator app (the key read off the page, codes computed
// here from it as a phone would); later sign-ins ask for a code; verifying and unlocking ask
// for a fresh one once the step-up window has passed, then carry on with what was asked.
// The window is a few seconds here (a real clock, no waiting ten minutes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as OTPAuth from 'otpauth';
import { assertAccessible } from './lib/a11y.mjs';
import { screenshot } from './lib/browser.mjs';
import {
  clickAndLoad, flash, keydeskFor, lockOutQuietly, pageFor, request, submitLogin, useBrowser, waitForTickets,
} from './lib/flows.mjs';

useBrowser();

const MEMBER = { email: 'mia.member@acme.test', name: 'Mia Member', role: 'member', password: 'mia-correct-horse' };
const AGENT = { email: 'agnes.agent@support.test', name: 'Agnes Agent', role: 'agent', password: 'agnes-battery-staple' };
const STEP_UP_SECONDS = 6;

/** The authenticator app on the agent's phone: 6 digits every 30 seconds from the key, each
 *  code typed once (Keydesk refuses a code twice), so after using one it offers the next step's
 *  (one step of drift is accepted) or waits for a new one. */
class Phone {
  constructor(base32) {
    this.totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(base32), digits: 6, period: 30, algorithm: 'SHA1' });
    this.lastStep = -1;
  }

  async code() {
    for (;;) {
      const now = Math.floor(Date.now() / 1000 / 30);
      const step = Math.max(now, this.lastStep + 1);
      if (step <= now + 1) {
        this.lastStep = step;
        return this.totp.generate({ timestamp: step * 30_000 });
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

const pause = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

test('an agent sets up an authenticator, then verifies and unlocks with fresh codes', async (t) => {
  const kd = await keydeskFor(t, {
    users: [MEMBER, AGENT],
    env: { ROCKET_MFA: `{required_for=["agent","manager","operator","owner","admin"],step_up_window="${STEP_UP_SECONDS}s"}` },
  });
  const member = await pageFor(t);
  await lockOutQuietly(member, kd, MEMBER);
  await kd.dropMail(request({
    from: MEMBER.email,
    name: MEMBER.name,
    messageId: 'locked-mfa@acme.test',
    body: `Full name: ${MEMBER.name}\nRegistered email: ${MEMBER.email}\nIssue: locked out before the morning clinic.`,
  }));

  // First sign-in: straight to setting up an authenticator, and nothing else until then.
  const agent = await pageFor(t);
  await agent.goto(kd.url('/login'));
  await submitLogin(agent, AGENT.email, AGENT.password);
  assert.equal(new URL(agent.url()).pathname, '/security');
  await agent.locator('#must-enrol').waitFor();
  await assertAccessible(agent, 'the security page asking to enrol');
  await agent.goto(kd.url('/queue'));
  assert.equal(new URL(agent.url()).pathname, '/security', 'the queue waits until a second factor is set up');

  await clickAndLoad(agent, agent.getByRole('button', { name: 'Set up an authenticator app' }));
  assert.equal(new URL(agent.url()).pathname, '/security/totp');
  assert.equal(await agent.locator('#qr svg').count(), 1, 'a QR code, as inline SVG');
  assert.match(await agent.locator('#otpauth-uri').innerText(), /^otpauth:\/\/totp\/Keydesk:/);
  await assertAccessible(agent, 'authenticator set-up');
  await screenshot(agent, 'security-enrol');
  const phone = new Phone((await agent.locator('#totp-secret').innerText()).trim());

  // A mistyped first code is refused; the app's code sets it up.
  await agent.getByLabel('Code from the app').fill('000000');
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Confirm' }));
  assert.match(await flash(agent), /That is not the code the app shows now/);
  await assertAccessible(agent, 'authenticator set-up with a wrong code');
  await agent.getByLabel('Code from the app').fill(await phone.code());
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Confirm' }));
  const enrolledAt = Date.now();
  assert.equal(await agent.locator('h1').innerText(), 'Your recovery codes');
  assert.equal(await agent.locator('#recovery-codes code').count(), 10);
  await assertAccessible(agent, 'the recovery codes');
  await clickAndLoad(agent, agent.locator('#continue'));

  // The agent sends the mailbox challenge and the member answers it.
  const rows = await waitForTickets(agent, kd, [MEMBER.email]);
  const number = rows[MEMBER.email].replace('ticket-', '');
  await agent.goto(kd.url(`/tickets/${number}`));
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Send mailbox challenge' }));
  const challenge = await kd.waitForMail((m) => m.to.includes(MEMBER.email) && m.subject.includes('Please confirm it is you'),
    { what: `the mailbox challenge to ${MEMBER.email}` });
  await member.goto(challenge.text.match(/https?:\/\/\S+\/confirm\/\S+/)[0]);
  await clickAndLoad(member, member.getByRole('button', { name: 'Yes, it was me' }));
  await member.locator('#confirmed').waitFor();

  // Past the window, Verify asks for a fresh code first and then verifies with what was chosen.
  await pause(STEP_UP_SECONDS + 1 - (Date.now() - enrolledAt) / 1000);
  await agent.reload();
  await agent.locator('#verify-method').selectOption({ label: 'mailbox confirmed' });
  await agent.locator('#verify-note').fill('Followed the challenge link');
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Verify', exact: true }));
  assert.equal(await agent.locator('h1').innerText(), 'Confirm it is you');
  await assertAccessible(agent, 'the step-up page');
  await screenshot(agent, 'step-up');
  await agent.getByLabel('Code from your authenticator app').fill('000000');
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Confirm and carry on' }));
  assert.match(await agent.locator('#code-error').innerText(), /That code did not work/);
  await assertAccessible(agent, 'the step-up page after a wrong code');
  await agent.getByLabel('Code from your authenticator app').fill(await phone.code());
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Confirm and carry on' }));
  const verifiedAt = Date.now();
  assert.equal(new URL(agent.url()).pathname, `/tickets/${number}`);
  assert.equal(await flash(agent), 'Done: Verified (mailbox confirmed).');
  await assertAccessible(agent, 'a verified ticket');

  // And past it again, Unlock asks too, then unlocks.
  await pause(STEP_UP_SECONDS + 1 - (Date.now() - verifiedAt) / 1000);
  await clickAndLoad(agent, agent.locator('button#unlock'));
  assert.equal(await agent.locator('h1').innerText(), 'Confirm it is you');
  assert.equal(await kd.mails().then((all) => all.filter((m) => m.subject === 'Your account has been unlocked').length), 0,
    'nothing unlocked before the code');
  await agent.getByLabel('Code from your authenticator app').fill(await phone.code());
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Confirm and carry on' }));
  assert.match(await flash(agent), /^Done: Account unlocked and ticket resolved\./);
  await kd.waitForMail((m) => m.to.includes(MEMBER.email) && m.subject === 'Your account has been unlocked',
    { what: `"Your account has been unlocked" to ${MEMBER.email}` });

  // A later sign-in asks for the code after the password.
  const again = await pageFor(t);
  await again.goto(kd.url('/login'));
  await submitLogin(again, AGENT.email, AGENT.password);
  assert.equal(new URL(again.url()).pathname, '/login/code');
  await assertAccessible(again, 'the sign-in code page');
  await again.getByLabel('Code from your authenticator app').fill(await phone.code());
  await clickAndLoad(again, again.getByRole('button', { name: 'Sign in', exact: true }));
  assert.equal(new URL(again.url()).pathname, '/queue', 'an agent starts on the queue, also after the code');
});
