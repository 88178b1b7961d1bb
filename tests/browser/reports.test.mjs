// The reports page in a real browser, over a demo history seeded by `keydesk demo seed`:
// a manager sees the figures and the four server-drawn charts, moves between presets,
// filters by organisation, follows a breach to its ticket and downloads the CSV; an agent
// and an owner see their own scope; the page fits a phone. Screenshots at desktop and
// phone sizes go to docs/screenshots/reports-*.png.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertAccessible } from './lib/a11y.mjs';
import { screenshot } from './lib/browser.mjs';
import { DESKTOP, clickAndLoad, keydeskFor, pageFor, submitLogin, useBrowser } from './lib/flows.mjs';

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
  assert.notEqual(new URL(page.url()).pathname, '/login', `${email} is signed in`);
}

/** Each chart shown is at least 180 CSS px tall, its labels at least 12 px as drawn, it
 *  describes itself (<desc>), and its y axis has ticks between 0 and the top. */
async function assertReadableCharts(page, what) {
  const charts = await page.locator('.charts svg.chart').evaluateAll((svgs) => svgs
    .filter((svg) => svg.getBoundingClientRect().width > 0)
    .map((svg) => {
      const scale = svg.getScreenCTM().a;
      const sizes = [...svg.querySelectorAll('text')].map((t) => parseFloat(getComputedStyle(t).fontSize) * scale);
      return {
        label: svg.getAttribute('aria-label'),
        height: svg.getBoundingClientRect().height,
        smallest: Math.min(...sizes),
        desc: svg.querySelector('desc')?.textContent ?? '',
        numbers: [...svg.querySelectorAll('text')].map((t) => t.textContent).filter((t) => /^\d+(\.\d)?$/.test(t)).length,
      };
    }));
  assert.equal(charts.length, 4, `${what}: four charts shown`);
  for (const chart of charts) {
    assert.ok(chart.height >= 180, `${what}: "${chart.label}" is ${chart.height}px tall`);
    assert.ok(chart.smallest >= 12, `${what}: "${chart.label}" has ${chart.smallest.toFixed(1)}px text`);
    assert.ok(chart.desc.length > 20, `${what}: "${chart.label}" describes itself: ${chart.desc}`);
    assert.ok(chart.numbers >= 3, `${what}: "${chart.label}" has axis numbers besides 0 and the top`);
  }
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

  // Four charts, drawn by the server (no script on the page), each with some marks; each
  // also comes narrow, for phones, hidden at this width.
  assert.equal(await page.locator('script').count(), 0);
  assert.equal(await page.locator('.charts svg.chart.narrow:visible').count(), 0);
  const charts = page.locator('.charts svg.chart.wide');
  assert.equal(await charts.count(), 4);
  for (let i = 0; i < 4; i++) {
    const box = await charts.nth(i).boundingBox();
    assert.ok(box && box.width > 300 && box.height > 100, `chart ${i} is ${JSON.stringify(box)}`);
    assert.ok(await charts.nth(i).locator('rect, polyline, polygon, circle').count() > 7, `chart ${i} has marks`);
  }
  await assertReadableCharts(page, 'reports at 1280px');
  // The heat map has a numeric legend and its numbers as a table.
  assert.match((await page.locator('#heat-legend').innerText()).replace(/\s+/g, ' '), /^Arrivals in an hour: 0 1–\d+ /);
  await page.locator('details.heat-table summary').click();
  assert.equal(await page.locator('table.report-heat tbody tr').count(), 7);
  assert.equal(await page.locator('table.report-heat thead th').count(), 26);
  await assertAccessible(page, 'the reports page');
  await screenshot(page, 'reports-desktop');

  // A preset is a link; its range shows in the form.
  await clickAndLoad(page, page.getByRole('link', { name: 'Last week' }));
  assert.equal(await page.locator('.report-presets a[aria-current="page"]').innerText(), 'Last week');
  const from = await page.locator('input[name="from"]').inputValue();
  assert.equal(new Date(`${from}T12:00:00Z`).getUTCDay(), 1, `last week starts on a Monday, not ${from}`);
  await assertAccessible(page, 'the reports page for last week');

  // Filter by an organisation: the scope says so and the figure is smaller.
  await page.goto(kd.url('/reports'));
  const orgs = page.locator('select[name="org"] option');
  const name = await orgs.nth(1).innerText();
  await page.locator('select[name="org"]').selectOption({ index: 1 });
  await clickAndLoad(page, page.getByRole('button', { name: 'Show' }));
  assert.match(await page.locator('hgroup p').innerText(), new RegExp(`for ${name}`));
  assert.ok(Number(await page.locator('#figure-received').innerText()) < received);
  await assertAccessible(page, 'the reports page for one organisation');

  // A compliance below the goal (90%) says so in words, not colour alone.
  await page.goto(kd.url('/reports'));
  for (const id of ['figure-sla-first-response', 'figure-sla-unlock']) {
    const share = Number((await page.locator(`#${id}`).innerText()).replace('%', ''));
    const verdict = await page.locator(`#${id}-verdict`).innerText();
    if (share < 90) assert.equal(verdict, 'Target missed: the goal is 90%.', `${id} at ${share}%`);
    else assert.equal(verdict, 'Goal of 90% reached.', `${id} at ${share}%`);
  }

  // Every breach is listed, fifty a page, oldest ticket first.
  const breachTotal = Number((await page.locator('#breaches').innerText()).match(/\((\d+)\)/)[1]);
  const rowsShown = await page.locator('table.report-breaches tbody tr').count();
  assert.equal(rowsShown, Math.min(breachTotal, 50));
  if (breachTotal > 50) {
    assert.match(await page.locator('#breach-count').innerText(), new RegExp(`^Breaches 1–50 of ${breachTotal},`));
    await clickAndLoad(page, page.getByRole('navigation', { name: 'Pages of breaches' }).getByRole('link', { name: /Next/ }));
    assert.match(await page.locator('#breach-count').innerText(), new RegExp(`^Breaches 51–${Math.min(100, breachTotal)} of ${breachTotal},`));
    assert.equal(new URL(page.url()).searchParams.get('breaches'), '2');
    await assertAccessible(page, 'the second page of breaches');
  }

  // A breach links to its ticket.
  const breach = page.locator('table.report-breaches a').first();
  const number = (await breach.innerText()).replace('#', '');
  await clickAndLoad(page, breach);
  assert.equal(new URL(page.url()).pathname, `/tickets/${number}`);
  await assertAccessible(page, 'a breached ticket');

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
  const page = await pageFor(t, { width: 390, height: 844 });
  await signIn(page, kd, agent);
  await page.goto(kd.url('/reports'));
  assert.match(await page.locator('hgroup p').innerText(), /^Tickets you handled/);
  assert.equal(await page.locator('select[name="agent"]').count(), 0, 'no agent filter for agents');
  await assertNoPageOverflow(page, 'reports on a phone');
  await assertReadableCharts(page, 'reports at 390px');
  await assertAccessible(page, 'an agent\'s reports on a phone');
  await screenshot(page, 'reports-phone');

  const other = await pageFor(t, DESKTOP);
  await signIn(other, kd, owner);
  await other.goto(kd.url('/reports'));
  assert.match(await other.locator('hgroup p').innerText(), /^All tickets for /);
  assert.equal(await other.locator('select[name="org"]').count(), 0, 'no organisation filter for owners');
  assert.equal(await other.locator('table.report-breaches a').count(), 0, 'owners do not get links to ticket pages');
  await assertAccessible(other, 'an owner\'s reports');
  const refused = await other.goto(kd.url('/reports?org=acme'));
  assert.equal(refused.status(), 403);
  await assertAccessible(other, 'the 403 page');
});
