// Keyboard use, in a real browser: the first Tab reaches "Skip to content", which moves focus
// to the page's <main>; the focus ring stands out from the page by at least 3:1 in the light
// and the dark scheme (WCAG 2.2, 1.4.11 and 2.4.13).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertAccessible } from './lib/a11y.mjs';
import { keydeskFor, pageFor, useBrowser } from './lib/flows.mjs';

useBrowser();

/** WCAG contrast ratio of two `rgb(r, g, b)` colours. */
function contrast(a, b) {
  const luminance = (rgb) => {
    const [r, g, bl] = rgb.match(/[\d.]+/g).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high + 0.05) / (low + 0.05);
}

test('the first Tab skips to the content, and focus is plain to see in both schemes', async (t) => {
  const kd = await keydeskFor(t, {});
  const page = await pageFor(t);
  // A page without an autofocused field (the login and forgot-password forms have one).
  const missing = await page.goto(kd.url('/no-such-page'));
  assert.equal(missing.status(), 404);

  await page.keyboard.press('Tab');
  const skip = page.locator(':focus');
  assert.equal(await skip.innerText(), 'Skip to content');
  assert.equal(await skip.getAttribute('href'), '#content');
  const box = await skip.boundingBox();
  assert.ok(box && box.y >= 0 && box.height > 10, `the skip link shows while focused: ${JSON.stringify(box)}`);
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'content', 'focus moves to <main id="content">');

  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await page.locator('a.brand').focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab'); // focus by keyboard, so :focus-visible applies
    await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {}))));
    const { outline, width, background } = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement);
      return {
        outline: style.outlineColor,
        width: parseFloat(style.outlineWidth),
        background: getComputedStyle(document.body).backgroundColor,
      };
    });
    assert.ok(width >= 2, `${colorScheme}: a ${width}px focus ring`);
    const ratio = contrast(outline, background);
    assert.ok(ratio >= 3, `${colorScheme}: focus ring ${outline} on ${background} is ${ratio.toFixed(2)}:1`);
  }
  await page.emulateMedia({ colorScheme: null });
  await assertAccessible(page, 'the 404 page');
});
