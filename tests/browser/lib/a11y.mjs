// Accessibility as a test: axe-core (the engine behind most accessibility checkers) run on
// the page as it is now, in the light and in the dark colour scheme. Critical and serious
// violations fail the test, each listed with the elements it was found on; moderate and
// minor ones are printed (to stderr) but pass, so they are seen without blocking.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axeSource = require('axe-core').source;

const BLOCKING = new Set(['critical', 'serious']);

/** The page's violations (axe's result objects) in the colour scheme the page shows now. */
async function violations(page) {
  // page.evaluate goes through DevTools, so a page's Content-Security-Policy does not stop it.
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document, {
    resultTypes: ['violations'],
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  }));
  return results.violations;
}

/** One violation as lines a person can act on: rule, impact, what it means, where. */
function describe(scheme, v) {
  const where = v.nodes.slice(0, 5).map((n) => `      at ${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ').trim() ?? ''}\n         ${n.html.slice(0, 160)}`);
  const more = v.nodes.length > 5 ? [`      … and ${v.nodes.length - 5} more`] : [];
  return [`  [${scheme}] ${v.impact} ${v.id}: ${v.help} (${v.helpUrl})`, ...where, ...more].join('\n');
}

/**
 * Runs axe on `page` in the light and the dark colour scheme and fails on any critical or
 * serious violation, printing them all. `label` names the page state in the message
 * ("the queue on a phone"). The page's colour scheme is put back as it was (not emulated).
 */
export async function assertAccessible(page, label) {
  const blocking = [];
  const other = [];
  try {
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      // Links fade to the new scheme's colours (CSS transitions): judge the colours they end on.
      await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))));
      for (const v of await violations(page)) {
        (BLOCKING.has(v.impact) ? blocking : other).push(describe(colorScheme, v));
      }
    }
  } finally {
    await page.emulateMedia({ colorScheme: null });
  }
  if (other.length > 0) process.stderr.write(`axe, ${label}: ${other.length} moderate or minor\n${other.join('\n')}\n`);
  assert.equal(blocking.length, 0, `axe found critical or serious violations on ${label}:\n${blocking.join('\n')}`);
}
