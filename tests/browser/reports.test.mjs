// The reports page in a real browser, over a demo history seeded by `keydesk demo seed`:
// a manager sees the figures and the four server-drawn charts, moves between presets,
// filters by organisation, follows a breach to its ticket and downloads the CSV; an agent
// and an owner see their own scope; the page fits a phone. Screenshots at desktop and
// phone sizes go to docs/screenshots/reports-*.png.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { screenshot } from './lib/browser.mjs';
import { DESKTOP, PHONE, clickAndLoad, keydeskFor, pageFor, submitLogin, useBrowser } from './lib/flows.mjs';

useBrowser();

const PASSWORD = 'demo-password-for-the-browser';
// London hours, so some of the demo's arrivals fall out of hours.
const LONDON = '{timezone="Europe/London",days=["mon","tue","wed","thu","fri"],open="09:00",close="17:00"}';

/** A Keydesk with 400 demo tickets over 45 days; returns it and the demo's sign-ins. */
async function demoDesk(t) {
  const kd = await keydeskFor(t, { env: { ROCKET_WORKING_HOURS: LONDON }, demo: { tickets: 400, days: 45, password: PASSWORD } });
  const match = kd.demoOutput.match(/the manager (\S+), the agent (\S+), or the owner (\S+)\./);
  assert.ok(match, `demo seed output names the sign-ins:\n${kd.demoOutput}`);
  return { kd, manager: match[1], agent: match[2], owner: match[3] };
}

async function signIn(page, kd, email) {
  await page.goto(kd.url('/login'));
  const response = await submitLogin(page, email, PASSWORD);
  assert.equal(response.status(), 200);
  assert.equal(new URL(page.url()).pathname, '/');
}

async function assertNoPageOverflow(page, what) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `${what}: page is ${scrollWidth}px wide in a ${clientWidth}px viewport`);
}

test('a manager reads the service-hours report, its charts and its exports', async (t) => {
  const { kd, manager } = await demoDesk(t);
  const page = await pageFor(t, DESKTOP);
  await signIn(page, kd, manager);
  await clickAndLoad(page, page.getByRole('link', { name: 'Reports', exact: true }));
  assert.equal(await page.locator('h1').innerText(), 'Service hours');

  // The default range is the last 30 days, marked among the presets.
  assert.equal(await page.locator('.report-presets a[aria-current="page"]').innerText(), 'Last 30 days');
  const received = Number(await page.locator('#figure-received').innerText());
  assert.ok(received > 100, `received ${received}`);
  assert.match(await page.locator('#figure-unlock').innerText(), /\d+ (min|h)/);

  // Four charts, drawn by the server (no script on the page), each with some marks.
  assert.equal(await page.locator('script').count(), 0);
  const charts = page.locator('.charts svg.chart');
  assert.equal(await charts.count(), 4);
  for (let i = 0; i < 4; i++) {
    const box = await charts.nth(i).boundingBox();
    assert.ok(box && box.width > 300 && box.height > 100, `chart ${i} is ${JSON.stringify(box)}`);
    assert.ok(await charts.nth(i).locator('rect, polyline, polygon, circle').count() > 7, `chart ${i} has marks`);
  }
  await screenshot(page, 'reports-desktop');

  // A preset is a link; its range shows in the form.
  await clickAndLoad(page, page.getByRole('link', { name: 'Last week' }));
  assert.equal(await page.locator('.report-presets a[aria-current="page"]').innerText(), 'Last week');
  const from = await page.locator('input[name="from"]').inputValue();
  assert.equal(new Date(`${from}T12:00:00Z`).getUTCDay(), 1, `last week starts on a Monday, not ${from}`);

  // Filter by an organisation: the scope says so and the figure is smaller.
  await page.goto(kd.url('/reports'));
  const orgs = page.locator('select[name="org"] option');
  const name = await orgs.nth(1).innerText();
  await page.locator('select[name="org"]').selectOption({ index: 1 });
  await clickAndLoad(page, page.getByRole('button', { name: 'Show' }));
  assert.match(await page.locator('hgroup p').innerText(), new RegExp(`for ${name}`));
  assert.ok(Number(await page.locator('#figure-received').innerText()) < received);

  // A breach links to its ticket (the list opens from its heading).
  await page.goto(kd.url('/reports'));
  await page.locator('details.breach-list summary').click();
  const breach = page.locator('table.report-breaches a').first();
  const number = (await breach.innerText()).replace('#', '');
  await clickAndLoad(page, breach);
  assert.equal(new URL(page.url()).pathname, `/tickets/${number}`);

  // The exports download as CSV, one row per ticket.
  const csv = await page.request.get(kd.url('/reports/tickets.csv'));
  assert.equal(csv.status(), 200);
  assert.match(csv.headers()['content-type'], /^text\/csv/);
  const lines = (await csv.text()).trim().split('\n');
  assert.equal(lines.length - 1, received);
  assert.match(lines[0], /^ticket,received_at,received_in_hours,organisation,status/);
});

test('an agent sees their own tickets and an owner their organisation, also on a phone', async (t) => {
  const { kd, agent, owner } = await demoDesk(t);
  const page = await pageFor(t, PHONE);
  await signIn(page, kd, agent);
  await page.goto(kd.url('/reports'));
  assert.match(await page.locator('hgroup p').innerText(), /^Tickets you handled/);
  assert.equal(await page.locator('select[name="agent"]').count(), 0, 'no agent filter for agents');
  await assertNoPageOverflow(page, 'reports on a phone');
  await screenshot(page, 'reports-phone');

  const other = await pageFor(t, DESKTOP);
  await signIn(other, kd, owner);
  await other.goto(kd.url('/reports'));
  assert.match(await other.locator('hgroup p').innerText(), /^All tickets for /);
  assert.equal(await other.locator('select[name="org"]').count(), 0, 'no organisation filter for owners');
  assert.equal(await other.locator('table.report-breaches a').count(), 0, 'owners do not get links to ticket pages');
  const refused = await other.goto(kd.url('/reports?org=acme'));
  assert.equal(refused.status(), 403);
});
