// Starts a throwaway Keydesk for one browser test: a temporary directory
// (SQLite database under var/, outgoing mail as .eml files under mail/,
// incoming mail from the Maildir intake/), support open around the clock, an
// organisation "Acme Clinic" (slug acme) with the given users (staff roles
// without an organisation), and
// `keydesk serve` on a free port of 127.0.0.1. Call stop() when done (it kills
// the server and removes the directory); a process 'exit' hook kills any
// server still running if a test crashes before that.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Roles that belong to no organisation (support staff). */
const STAFF_ROLES = new Set(['agent', 'manager', 'operator']);

const live = new Set();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function keydeskBin() {
  const bin = process.env.KEYDESK_BIN;
  if (!bin) throw new Error('KEYDESK_BIN must point at the built keydesk binary');
  return bin;
}

/** A port of 127.0.0.1 that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Run the keydesk CLI to completion; rejects with its output if it fails. */
function runCli(args, { cwd, env, input }) {
  return new Promise((resolve, reject) => {
    const child = spawn(keydeskBin(), args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`keydesk ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${out}`));
    });
    child.stdin.end(input ?? '');
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Start `keydesk serve`; resolves once GET /healthz answers 200. */
async function serve({ cwd, env, baseUrl, timeoutMs = 20_000 }) {
  const child = spawn(keydeskBin(), ['serve'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => { live.delete(child); resolve({ code, signal }); });
  });
  let gone = null;
  exited.then((e) => { gone = e; });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gone) {
      return { child, exited, output: () => output, failed: `exited early (${gone.signal ?? `exit ${gone.code}`})` };
    }
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return { child, exited, output: () => output };
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  child.kill('SIGKILL');
  await exited;
  return { child, exited, output: () => output, failed: `no 200 from /healthz within ${timeoutMs} ms` };
}

// --- Mail -------------------------------------------------------------------

function decodeQuotedPrintable(s) {
  const bytes = Buffer.from(
    s.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  );
  return bytes.toString('utf8');
}

function decodeBody(body, headers) {
  const cte = (headers['content-transfer-encoding'] || '7bit').toLowerCase();
  if (cte === 'quoted-printable') return decodeQuotedPrintable(body);
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** RFC 2047 encoded words (=?utf-8?Q?...?= / =?utf-8?B?...?=) in a header. */
function decodeHeader(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _charset, enc, text) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')));
}

function splitHeaders(raw) {
  const text = raw.replace(/\r\n/g, '\n');
  const cut = text.indexOf('\n\n');
  const head = cut < 0 ? text : text.slice(0, cut);
  const body = cut < 0 ? '' : text.slice(cut + 2);
  const headers = {};
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

/** Parse one .eml file written by Keydesk's file transport. Returns null if
 *  the file looks incomplete (still being written). */
export function parseEml(raw) {
  const { headers, body } = splitHeaders(raw);
  const mail = {
    from: decodeHeader(headers.from || ''),
    to: decodeHeader(headers.to || ''),
    subject: decodeHeader(headers.subject || ''),
    headers,
    text: '',
    html: '',
  };
  const type = headers['content-type'] || 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    if (!body.includes(`--${boundary}--`)) return null;
    const parts = body.split(`--${boundary}`).slice(1, -1);
    for (const part of parts) {
      const p = splitHeaders(part.replace(/^\n/, ''));
      const decoded = decodeBody(p.body.replace(/\n$/, ''), p.headers);
      const ptype = (p.headers['content-type'] || 'text/plain').toLowerCase();
      if (ptype.startsWith('text/plain') && !mail.text) mail.text = decoded;
      else if (ptype.startsWith('text/html') && !mail.html) mail.html = decoded;
    }
  } else if (/^text\/html/i.test(type)) {
    mail.html = decodeBody(body, headers);
  } else {
    mail.text = decodeBody(body, headers);
  }
  return mail;
}

// --- The instance -----------------------------------------------------------

/**
 * Start a throwaway Keydesk.
 * @param {object} opts
 * @param {'admins'|'owner_pin'} [opts.unlockPolicy]
 * @param {{email: string, name: string, role: string, password: string}[]} opts.users
 *        created in this order: organisation roles in acme, staff roles in none
 * @param {Record<string, string>} [opts.env] extra environment variables
 */
/** `demo`: `{ tickets, days, password }` runs `keydesk demo seed` before serving; its
 *  output is `kd.demoOutput`. */
export async function startKeydesk({ unlockPolicy = 'admins', users = [], env: extraEnv = {}, demo = null } = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'keydesk-browser-'));
  const mailDir = path.join(dir, 'mail');
  const intakeDir = path.join(dir, 'intake');
  let server = null;
  let port = 0;
  let demoOutput = '';

  const stop = async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGTERM');
      const killer = setTimeout(() => server.child.kill('SIGKILL'), 5000);
      await server.exited;
      clearTimeout(killer);
    }
    await rm(dir, { recursive: true, force: true });
  };

  const envFor = (p) => ({
    ...process.env,
    ROCKET_CONFIG: path.join(repoRoot, 'Rocket.toml'),
    ROCKET_PORT: String(p),
    ROCKET_ADDRESS: '127.0.0.1',
    ROCKET_PUBLIC_URL: `http://127.0.0.1:${p}`,
    ROCKET_LOG_LEVEL: 'critical',
    // Nested tables use figment's env dict syntax: {key=value,...}, TOML values.
    ROCKET_MAIL: `{transport="file",dir=${JSON.stringify(mailDir)},from="Keydesk <keydesk@keydesk.test>",poll_interval="200ms"}`,
    ROCKET_THROTTLE: '{max_failures_per_ip=0}',
    // No second factor required unless a test asks for it (second_factor.test.mjs does).
    ROCKET_MFA: '{required_for=[]}',
    // Open every day, all day, so unlocking never waits for office hours.
    ROCKET_WORKING_HOURS: '{timezone="UTC",days=["mon","tue","wed","thu","fri","sat","sun"],open="00:00",close="24:00"}',
    ROCKET_INTAKE: `{source="maildir",dir=${JSON.stringify(intakeDir)},poll_seconds=1}`,
    ...extraEnv,
  });

  try {
    port = await freePort();
    let env = envFor(port);
    const orgArgs = ['org', 'create', '--name', 'Acme Clinic', '--slug', 'acme', '--unlock-policy', unlockPolicy];
    await runCli(orgArgs, { cwd: dir, env });
    for (const u of users) {
      await runCli(
        ['user', 'create', '--email', u.email, '--name', u.name, '--role', u.role,
          ...(STAFF_ROLES.has(u.role) ? [] : ['--org', 'acme']), '--password-stdin'],
        { cwd: dir, env, input: `${u.password}\n` },
      );
    }
    if (demo) {
      demoOutput = await runCli(
        ['demo', 'seed', '--tickets', String(demo.tickets), '--days', String(demo.days), '--password-stdin'],
        { cwd: dir, env, input: `${demo.password}\n` },
      );
    }
    // Another process may grab the port between freePort() and serve: retry.
    for (let attempt = 1; ; attempt++) {
      server = await serve({ cwd: dir, env, baseUrl: `http://127.0.0.1:${port}` });
      if (!server.failed) break;
      if (attempt >= 3) {
        throw new Error(`keydesk serve ${server.failed}:\n${server.output()}`);
      }
      port = await freePort();
      env = envFor(port);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const baseUrl = `http://127.0.0.1:${port}`;

  /** Every complete message in the mail folder, oldest first. */
  const mails = async () => {
    let names;
    try {
      names = (await readdir(mailDir)).filter((n) => n.endsWith('.eml')).sort();
    } catch (err) {
      if (err.code === 'ENOENT') return [];
      throw err;
    }
    const out = [];
    for (const name of names) {
      const mail = parseEml(await readFile(path.join(mailDir, name), 'utf8'));
      if (mail) out.push({ file: name, ...mail });
    }
    return out;
  };

  /** Poll the mail folder (every 100 ms, up to timeoutMs) for a message
   *  matching predicate(mail); resolves with it, or rejects listing what came. */
  const waitForMail = async (predicate, { timeoutMs = 10_000, what = 'a matching message' } = {}) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = await mails();
      const found = all.find(predicate);
      if (found) return found;
      if (Date.now() >= deadline) {
        const seen = all.map((m) => `  ${m.file}: To ${m.to}, Subject ${m.subject}`).join('\n') || '  (none)';
        throw new Error(`no mail for ${what} within ${timeoutMs} ms; messages:\n${seen}`);
      }
      await sleep(100);
    }
  };

  /** Deliver a raw message to the intake Maildir as an MTA does: written
   *  into tmp/, then renamed into new/ (so intake never sees half a file). */
  let delivered = 0;
  const dropMail = async (raw) => {
    await mkdir(path.join(intakeDir, 'tmp'), { recursive: true });
    await mkdir(path.join(intakeDir, 'new'), { recursive: true });
    const name = `${Date.now()}.${process.pid}_${++delivered}.keydesk-browser-test`;
    const tmp = path.join(intakeDir, 'tmp', name);
    await writeFile(tmp, raw.replace(/\r?\n/g, '\r\n'));
    await rename(tmp, path.join(intakeDir, 'new', name));
    return name;
  };

  return {
    dir,
    mailDir,
    intakeDir,
    dropMail,
    port,
    baseUrl,
    url: (p = '/') => new URL(p, baseUrl).href,
    serverOutput: () => server.output(),
    demoOutput,
    mails,
    waitForMail,
    stop,
  };
}
