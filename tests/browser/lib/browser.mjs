// Shared helpers for Keydesk's browser tests (run by scripts/test).
// Uses Debian's Chromium via playwright-core: Playwright's own browser
// downloads are not reachable from our machines.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

// Flags keep Chromium quiet and offline: no GPU, no sandbox (we run as root
// in containers), and no background traffic to Google services.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launch headless Chromium; returns a playwright Browser. Close it when done.
 *  Playwright gives every launch() a fresh temporary user-data-dir (and
 *  refuses --user-data-dir in args), so no profile state leaks between runs. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.KEYDESK_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ARGS,
  });
}

/** Save a full-page screenshot to docs/screenshots/NAME.png (repo root) when
 *  KEYDESK_SCREENSHOTS=1 asks for it (so an ordinary run leaves the committed pictures
 *  alone); returns the file path, or null when none was taken. */
export async function screenshot(page, name) {
  if (process.env.KEYDESK_SCREENSHOTS !== '1') return null;
  const dir = path.join(repoRoot, 'docs', 'screenshots');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
