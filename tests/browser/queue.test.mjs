// The support queue, end to end in a real browser: a member locks their
// account and emails support; the ticket appears in an agent's queue; the
// agent sends the mailbox challenge, the member answers it from the email,
// the agent verifies and unlocks; the member is told and logs in again.
// Screenshots of the queue and the ticket page, desktop and phone, go to
// docs/screenshots/.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertAccessible } from './lib/a11y.mjs';
import { screenshot } from './lib/browser.mjs';
import {
  PHONE, assertNoPageOverflow, clickAndLoad, flash, keydeskFor, lockOutQuietly, logInAs, pageFor, request, useBrowser,
  waitForTickets,
} from './lib/flows.mjs';

useBrowser();

const MEMBER = { email: 'mia.member@acme.test', name: 'Mia Member', role: 'member', password: 'mia-correct-horse' };
const AGENT = { email: 'agnes.agent@support.test', name: 'Agnes Agent', role: 'agent', password: 'agnes-battery-staple' };


test('an agent verifies a locked member by the mailbox challenge and unlocks them', async (t) => {
  const kd = await keydeskFor(t, { users: [MEMBER, AGENT] });

  // The member locks themselves out.
  const member = await pageFor(t);
  await lockOutQuietly(member, kd, MEMBER);
  await assertAccessible(member, 'the login error');

  // They write to support; someone without an account writes too.
  await kd.dropMail(request({
    from: MEMBER.email,
    name: MEMBER.name,
    messageId: 'locked-1@acme.test',
    body: `Hello,\n\nFull name: ${MEMBER.name}\nRegistered email: ${MEMBER.email}\nIssue: I mistyped my password and now my account is locked.\nI need it for the morning clinic.\n\nThanks,\nMia`,
  }));
  await kd.dropMail(request({
    from: 'sam@elsewhere.test',
    name: 'Sam Stranger',
    messageId: 'stranger-1@elsewhere.test',
    body: 'Hi, I cannot log in any more. Can you help?',
  }));

  // The agent finds the ticket in the queue.
  const agent = await pageFor(t);
  await logInAs(agent, kd, AGENT);
  const nav = agent.getByRole('navigation', { name: 'Main' });
  await clickAndLoad(agent, nav.getByRole('link', { name: 'Queue', exact: true }));
  assert.equal(new URL(agent.url()).pathname, '/queue');
  const rows = await waitForTickets(agent, kd, [MEMBER.email, 'sam@elsewhere.test']);
  const number = rows[MEMBER.email].replace('ticket-', '');
  const row = agent.locator(`tr#ticket-${number}`);
  assert.equal(await row.locator('td.who .name').innerText(), MEMBER.name);
  assert.equal(await row.locator('td.org').innerText(), 'Acme Clinic');
  assert.equal(await row.locator('td.status .ticket-status').innerText(), 'New');
  assert.equal(await row.locator('td.verification').innerText(), 'Not verified');
  assert.equal(await row.locator('td.age .arrived').innerText(), 'In hours');
  assert.match(await row.locator('td.age').innerText(), /business hour/);
  await assertAccessible(agent, 'the queue');
  await screenshot(agent, 'queue-desktop');

  // The queue on a phone.
  const agentPhone = await pageFor(t, PHONE);
  await logInAs(agentPhone, kd, AGENT);
  await agentPhone.goto(kd.url('/queue'));
  await agentPhone.locator(`tr#ticket-${number}`).waitFor();
  await assertNoPageOverflow(agentPhone, 'the queue at 375px');
  await assertAccessible(agentPhone, 'the queue on a phone');
  await screenshot(agentPhone, 'queue-phone');

  // The ticket: not verified, so Unlock is disabled and says why.
  await clickAndLoad(agent, row.getByRole('link', { name: `Ticket ${number}` }));
  assert.equal(new URL(agent.url()).pathname, `/tickets/${number}`);
  assert.equal(await agent.locator('h1').innerText(), `#${number} · Account locked`);
  assert.equal(await agent.locator('ul.checks li.check').count(), 5);
  const unlock = agent.locator('button#unlock');
  assert.ok(await unlock.isDisabled(), 'Unlock is disabled before verification');
  assert.equal(await agent.locator('#unlock-blocked').innerText(), 'The ticket is not verified: verify the sender first.');
  assert.match(await agent.locator('#verification-rule').innerText(), /mailbox challenge must be answered, or a manager must verify/);
  assert.match(await agent.locator('article.message.in .message-body').innerText(), /I need it for the morning clinic\./);
  await assertAccessible(agent, 'a new ticket');

  await clickAndLoad(agent, agent.getByRole('button', { name: 'Take (assign to me)' }));
  assert.match(await flash(agent), /^Done: Ticket #\d+ is assigned to you\.$/);

  // The mailbox challenge, to the registered address.
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Send mailbox challenge' }));
  assert.match(await flash(agent), new RegExp(`^Done: Mailbox challenge sent to the registered address ${MEMBER.email.replace('.', '\\.')}`));
  const challenge = await kd.waitForMail((m) => m.to.includes(MEMBER.email) && m.subject.includes('Please confirm it is you'),
    { what: `the mailbox challenge to ${MEMBER.email}` });
  const link = challenge.text.match(/https?:\/\/\S+\/confirm\/\S+/)?.[0];
  assert.ok(link, `a confirmation link in:\n${challenge.text}`);

  // The member follows it and presses the button.
  await member.goto(link);
  await assertAccessible(member, 'the mailbox challenge page');
  await clickAndLoad(member, member.getByRole('button', { name: 'Yes, it was me' }));
  await member.locator('#confirmed').waitFor();
  await assertAccessible(member, 'the challenge answered');

  await agent.reload();
  assert.equal(await agent.locator('#ticket-verification').innerText(), 'Mailbox confirmed');
  await assertAccessible(agent, 'a ticket with the mailbox confirmed');
  await screenshot(agent, 'ticket-desktop');
  await agentPhone.goto(kd.url(`/tickets/${number}`));
  await assertNoPageOverflow(agentPhone, 'the ticket at 375px');
  await assertAccessible(agentPhone, 'a ticket on a phone');
  await screenshot(agentPhone, 'ticket-phone');

  // Verify by "mailbox confirmed", then unlock.
  await agent.locator('#verify-method').selectOption({ label: 'mailbox confirmed' });
  await agent.locator('#verify-note').fill('Followed the challenge link');
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Verify', exact: true }));
  assert.equal(await flash(agent), 'Done: Verified (mailbox confirmed).');
  assert.equal(await agent.locator('#ticket-verification').innerText(), 'Verified (mailbox confirmed)');
  assert.ok(await unlock.isEnabled(), 'Unlock can be pressed once verified');

  await clickAndLoad(agent, unlock);
  assert.match(await flash(agent), /^Done: Account unlocked and ticket resolved\./);
  assert.equal(await agent.locator('#ticket-status').innerText(), 'Resolved');
  assert.equal(await agent.locator('.account-line .status-active').innerText(), 'Active');
  await assertAccessible(agent, 'a resolved ticket');

  const unlocked = await kd.waitForMail((m) => m.to.includes(MEMBER.email) && m.subject === 'Your account has been unlocked',
    { what: `"Your account has been unlocked" to ${MEMBER.email}` });
  assert.match(unlocked.text, /Forgot Password/);

  // The member is back in.
  await logInAs(member, kd, MEMBER);
  await assertAccessible(member, 'a member\'s home page');

  // The ticket has left the agent's queue.
  await agent.goto(kd.url('/queue'));
  assert.equal(await agent.locator(`tr#ticket-${number}`).count(), 0);
  await assertAccessible(agent, 'the queue after the unlock');
});
