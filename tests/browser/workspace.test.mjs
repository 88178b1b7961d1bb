// The agent's workspace in a real browser: search by email and by number, the next-step
// column and its order, working a ticket from the top of the page at phone width, a canned
// reply inserted and sent, two agents on one ticket (presence and the stale-reply warning),
// sign-in returning to a ticket link, and the locked user's prefilled mailto. Every page
// state visited is checked with axe-core, light and dark.
// (The SLA alert emails need an injected clock: tests/workspace.rs drives them.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertAccessible } from './lib/a11y.mjs';
import {
  PHONE, MAX_FAILED_ATTEMPTS, WRONG_PASSWORD, clickAndLoad, flash, keydeskFor, lockOutQuietly, logInAs, pageFor,
  request, submitLogin, useBrowser, waitForTickets,
} from './lib/flows.mjs';

useBrowser();

const MIA = { email: 'mia.member@acme.test', name: 'Mia Member', role: 'member', password: 'mia-correct-horse' };
const LEO = { email: 'leo.lab@acme.test', name: 'Leo Lab', role: 'member', password: 'leo-correct-horse' };
const AGNES = { email: 'agnes.agent@support.test', name: 'Agnes Agent', role: 'agent', password: 'agnes-battery-staple' };
const ARTUR = { email: 'artur.agent@support.test', name: 'Artur Agent', role: 'agent', password: 'artur-battery-staple' };

const body = (who) => `Hello,\n\nFull name: ${who.name}\nRegistered email: ${who.email}\nIssue: I am locked out after mistyping my password.\n\nThanks`;

test('agents search, see the next step, and work a ticket from the top on a phone', async (t) => {
  const kd = await keydeskFor(t, { users: [MIA, LEO, AGNES, ARTUR] });
  const locked = await pageFor(t);
  await lockOutQuietly(locked, kd, MIA);
  // Leo is not locked: his ticket only needs resolving.
  await kd.dropMail(request({ from: MIA.email, name: MIA.name, messageId: 'mia-1@acme.test', body: body(MIA) }));
  await kd.dropMail(request({ from: LEO.email, name: LEO.name, messageId: 'leo-1@acme.test', body: body(LEO) }));

  const agent = await pageFor(t);
  await logInAs(agent, kd, AGNES);
  const rows = await waitForTickets(agent, kd, [MIA.email, LEO.email]);
  const mia = rows[MIA.email].replace('ticket-', '');
  const leo = rows[LEO.email].replace('ticket-', '');
  assert.equal(await agent.locator(`tr#ticket-${leo} span.next-step`).innerText(), 'Already unlocked — resolve');
  assert.equal(await agent.locator(`tr#ticket-${mia} span.next-step`).innerText(), 'Needs verification');
  const order = await agent.locator('table.queue tbody tr').evaluateAll((trs) => trs.map((tr) => tr.id));
  assert.deepEqual(order, [`ticket-${leo}`, `ticket-${mia}`], 'what can be finished now comes first');
  assert.match(await agent.locator(`tr#ticket-${mia} .sla`).first().innerText(), /^Reply due in/);
  // The queue fits a 1200 px screen: every column in view, no sideways scroll.
  await agent.setViewportSize({ width: 1200, height: 800 });
  const wrap = await agent.locator('.table-wrap').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
  assert.ok(wrap.scroll <= wrap.client, `queue table ${wrap.scroll}px in ${wrap.client}px`);
  await assertAccessible(agent, 'the queue');

  // Search by email, then by number.
  await agent.locator('#queue-q').fill(MIA.email);
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Search', exact: true }));
  assert.deepEqual(await agent.locator('table.queue tbody tr').evaluateAll((trs) => trs.map((tr) => tr.id)), [`ticket-${mia}`]);
  await assertAccessible(agent, 'a search');
  await agent.locator('#queue-q').fill(`#${leo}`);
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Search', exact: true }));
  assert.deepEqual(await agent.locator('table.queue tbody tr').evaluateAll((trs) => trs.map((tr) => tr.id)), [`ticket-${leo}`]);
  await agent.locator('#queue-q').fill('nobody-at-all');
  await clickAndLoad(agent, agent.getByRole('button', { name: 'Search', exact: true }));
  await clickAndLoad(agent, agent.locator('td.empty').getByRole('link', { name: 'Clear filters' }));
  assert.equal(new URL(agent.url()).search, '');

  // On a phone, the next step and its action are at the top of the ticket.
  const phone = await pageFor(t, PHONE);
  await logInAs(phone, kd, AGNES);
  await phone.goto(kd.url(`/tickets/${leo}`));
  const resolve = phone.locator('#resolve-unlocked');
  const box = await resolve.boundingBox();
  assert.ok(box && box.y + box.height <= PHONE.height, `the one-click resolve is on the first screen (y=${box?.y})`);
  await assertAccessible(phone, 'a ticket on a phone');
  await clickAndLoad(phone, resolve);
  assert.equal(await flash(phone), `Done: Ticket #${leo} resolved.`);
  assert.equal(await phone.locator('#next-step-label').innerText(), 'Done');

  await phone.goto(kd.url(`/tickets/${mia}`));
  assert.equal(await phone.locator('#next-step-label').innerText(), 'Needs verification');
  await phone.locator('#go-verify').click();
  await clickAndLoad(phone, phone.getByRole('button', { name: 'Send mailbox challenge' }));
  assert.equal(await phone.locator('#next-step-label').innerText(), 'Awaiting mailbox confirmation');
  const challenge = await kd.waitForMail((m) => m.to.includes(MIA.email) && m.subject.includes('Please confirm it is you'),
    { what: `the mailbox challenge to ${MIA.email}` });
  await locked.goto(challenge.text.match(/https?:\/\/\S+\/confirm\/\S+/)[0]);
  await clickAndLoad(locked, locked.getByRole('button', { name: 'Yes, it was me' }));
  await phone.reload();
  await phone.locator('#verify-method').selectOption({ label: 'mailbox confirmed' });
  await clickAndLoad(phone, phone.locator('button#verify'));
  assert.equal(await phone.locator('#next-step-label').innerText(), 'Ready to unlock');
  await clickAndLoad(phone, phone.locator('#unlock-now'));
  assert.match(await flash(phone), /^Done: Account unlocked and ticket resolved\./);
  await clickAndLoad(phone, phone.locator('#next-ticket'));
  assert.equal(new URL(phone.url()).pathname, '/queue', 'nothing left: back to the queue');
});

test('a canned reply is inserted and sent; two agents see each other and a crossed reply is held', async (t) => {
  const kd = await keydeskFor(t, { users: [MIA, AGNES, ARTUR] });
  await kd.dropMail(request({ from: MIA.email, name: MIA.name, messageId: 'mia-2@acme.test', body: body(MIA) }));
  const agnes = await pageFor(t);
  await logInAs(agnes, kd, AGNES);
  const number = (await waitForTickets(agnes, kd, [MIA.email]))[MIA.email].replace('ticket-', '');
  const artur = await pageFor(t);
  await logInAs(artur, kd, ARTUR);
  await artur.goto(kd.url(`/tickets/${number}`));
  await agnes.goto(kd.url(`/tickets/${number}`));
  await agnes.locator('#presence', { hasText: 'Also viewing now: Artur Agent.' }).waitFor();

  // Agnes inserts a canned reply (the script fills the box in place) and edits it.
  await agnes.locator('#canned-select').selectOption({ label: 'Ask for missing details' });
  await agnes.locator('#insert-canned').click();
  const text = await agnes.locator('#reply-text').inputValue();
  assert.match(text, /^Hello Mia Member,/);
  assert.match(text, new RegExp(`ticket #${number}`));
  await assertAccessible(agnes, 'a ticket with a canned reply in the box');

  // Artur replies first; Agnes's send is held with her text kept.
  await artur.locator('#reply-text').fill('Looking into it now.');
  await clickAndLoad(artur, artur.locator('#send-reply'));
  assert.match(await flash(artur), /^Done: Reply sent to/);
  await agnes.locator('#presence', { hasText: 'A new message arrived' }).waitFor({ timeout: 20_000 });
  const held = await clickAndLoad(agnes, agnes.locator('#send-reply'));
  assert.equal(held.status(), 409);
  assert.match(await agnes.locator('#reply-warning').innerText(), /artur\.agent@support\.test added to the thread/);
  assert.match(await agnes.locator('#reply-text').inputValue(), /^Hello Mia Member,/);
  await assertAccessible(agnes, 'a held reply');
  await clickAndLoad(agnes, agnes.locator('#send-reply'));
  assert.match(await flash(agnes), /^Done: Reply sent to/);
  await kd.waitForMail((m) => m.to.includes(MIA.email) && m.text.includes('Hello Mia Member,'),
    { what: 'the canned reply to Mia' });
});

test('sign-in returns to a ticket link, and a locked user gets a ready-made email to support', async (t) => {
  const kd = await keydeskFor(t, { users: [MIA, AGNES] });
  await kd.dropMail(request({ from: MIA.email, name: MIA.name, messageId: 'mia-3@acme.test', body: body(MIA) }));
  const first = await pageFor(t);
  await logInAs(first, kd, AGNES);
  const number = (await waitForTickets(first, kd, [MIA.email]))[MIA.email].replace('ticket-', '');

  const shared = await pageFor(t);
  await shared.goto(kd.url(`/tickets/${number}`));
  assert.equal(new URL(shared.url()).pathname, '/login');
  await submitLogin(shared, AGNES.email, AGNES.password);
  assert.equal(new URL(shared.url()).pathname, `/tickets/${number}`, 'back to the ticket after signing in');

  const locked = await pageFor(t);
  await locked.goto(kd.url('/login'));
  for (let attempt = 1; attempt <= MAX_FAILED_ATTEMPTS; attempt++) {
    await submitLogin(locked, MIA.email, WRONG_PASSWORD);
  }
  await locked.locator('#may-be-locked').waitFor();
  const mailto = await locked.locator('#login-error a.support-link').getAttribute('href');
  const link = new URL(mailto);
  assert.equal(link.protocol, 'mailto:');
  assert.equal(link.searchParams.get('subject'), 'My account is locked');
  assert.equal(link.searchParams.get('body'), `Full name: \r\nRegistered email: ${MIA.email}\r\nDescription: \r\n`);
  await assertAccessible(locked, 'the login page after five failures');
  await clickAndLoad(locked, locked.getByRole('link', { name: 'Forgot Password?' }).first());
  assert.ok(await locked.locator('#forgot-support').getAttribute('href').then((h) => h.startsWith('mailto:')));
  await assertAccessible(locked, 'the forgot-password page');
});
