// Drives the operator console (/console) in Debian's headless Chromium: signs in with an
// operator token, then checks that a ticket filed through the API appears in the table without
// reloading the page, and that moving it changes its row. Run by server/console_e2e_test.go,
// which starts the server; by hand:
//   BASE_URL=http://localhost:8080 OPERATOR_TOKEN=... CITIZEN_TOKEN=... node e2e/console/console.test.mjs
// Optional: SCREENSHOT=/path/to/file.png, VIEWPORT=1280x800.
import { chromium } from 'playwright-core';

const { BASE_URL, OPERATOR_TOKEN, CITIZEN_TOKEN, SCREENSHOT } = process.env;
const [width, height] = (process.env.VIEWPORT || '1280x800').split('x').map(Number);
const WAIT_MS = 15000;

function need(name, value) {
  if (!value) {
    console.error(`console.test: ${name} is not set`);
    process.exit(2);
  }
}
need('BASE_URL', BASE_URL);
need('OPERATOR_TOKEN', OPERATOR_TOKEN);
need('CITIZEN_TOKEN', CITIZEN_TOKEN);

// gql posts an operation to the API as the holder of token and returns its data.
async function gql(token, query, variables) {
  const res = await fetch(`${BASE_URL}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

const submit = (token, subject) => gql(token,
  `mutation($in: SubmitTicketInput!) { submitTicket(input: $in) { protocolNumber ticket { id status } } }`,
  { in: { kind: 'REPORT', subject, body: `Segnalazione di prova: ${subject}` } });

const step = (text) => console.log(`console.test: ${text}`);
const problems = []; // console errors, uncaught exceptions, CSP violations
const unique = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

let browser;
let page;
let failed = false;
try {
  // A ticket filed before the page opens comes from the list query; anonymous, so the table
  // must say so. Markup in the subject must show as text.
  const earlier = `Lampione <b>spento</b> ${unique}`;
  const pre = await submit('', earlier);
  step(`filed ${pre.submitTicket.protocolNumber} before opening the page`);

  // launch() runs the browser on a fresh, temporary user-data dir, removed on close.
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30000,
  });
  const context = await browser.newContext({ viewport: { width, height }, locale: 'it-IT', timezoneId: 'Europe/Rome' });
  page = await context.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));

  await page.goto(`${BASE_URL}/console`, { waitUntil: 'load' });
  await page.getByLabel('Token di accesso (operatore)').fill(OPERATOR_TOKEN);
  await page.getByRole('button', { name: 'Connetti' }).click();
  await page.locator('#conn[data-state="live"]').waitFor({ timeout: WAIT_MS });
  step('live');
  if (page.url().includes(OPERATOR_TOKEN.slice(-16))) throw new Error('the token ended up in the URL');
  // Marks this document: if the page reloaded, the mark would be gone.
  await page.evaluate(() => { window.__consoleTestMark = true; });

  const rowOf = (subject) => page.locator('#tickets tbody tr').filter({ hasText: subject });
  const earlierRow = rowOf(earlier);
  await earlierRow.waitFor({ timeout: WAIT_MS });
  const citizen = await earlierRow.locator('[data-col="citizen"]').textContent();
  if (citizen.trim() !== 'anonimo') throw new Error(`anonymous ticket shows citizen ${JSON.stringify(citizen)}`);
  if (await page.locator('#tickets b').count() > 0) throw new Error('markup in a subject was rendered as HTML');
  step('the open ticket filed earlier is listed, its markup shown as text');

  const subject = `Buca in via Roma ${unique}`;
  const filed = await submit(CITIZEN_TOKEN, subject);
  const { id } = filed.submitTicket.ticket;
  step(`filed ${filed.submitTicket.protocolNumber} as a citizen`);
  const row = rowOf(subject);
  await row.waitFor({ timeout: WAIT_MS });
  const first = await page.locator('#tickets tbody tr').first().textContent();
  if (!first.includes(subject)) throw new Error(`the new ticket is not the first row; the first row reads ${JSON.stringify(first)}`);
  await row.locator('[data-col="status"][data-status="SUBMITTED"]').waitFor({ timeout: WAIT_MS });
  step('the new ticket appeared at the top, live');

  await gql(OPERATOR_TOKEN, `mutation($id: ID!) { transitionTicket(ticketId: $id, to: IN_PROGRESS) { status } }`, { id });
  await row.locator('[data-col="status"][data-status="IN_PROGRESS"]').waitFor({ timeout: WAIT_MS });
  step('its status changed to IN_PROGRESS, live');

  // The counts come from dashboardChanged: both tickets are open.
  await page.waitForFunction(() => {
    const open = document.querySelector('#dash-status [data-key="OPEN"] dd');
    return open && Number(open.textContent) >= 2;
  }, null, { timeout: WAIT_MS });
  step('the dashboard counts the open tickets');

  if (!(await page.evaluate(() => window.__consoleTestMark === true))) throw new Error('the page reloaded');
  if ((await page.locator('#conn').getAttribute('data-state')) !== 'live') throw new Error('the connection is no longer live');
  const fatal = problems.filter((p) => p.startsWith('uncaught') || /Content[- ]Security[- ]Policy/i.test(p));
  if (fatal.length) throw new Error(`the page reported errors:\n  ${fatal.join('\n  ')}`);
} catch (err) {
  failed = true;
  console.error(`console.test: FAIL: ${err.message}`);
  if (page) {
    const conn = await page.locator('#conn').textContent().catch(() => '?');
    console.error(`console.test: connection state shown: ${conn.replace(/\s+/g, ' ').trim()}`);
  }
} finally {
  if (page && SCREENSHOT) {
    await page.screenshot({ path: SCREENSHOT, fullPage: true }).catch((e) => console.error(`screenshot: ${e.message}`));
    step(`screenshot: ${SCREENSHOT}`);
  }
  if (problems.length && (failed || process.env.VERBOSE)) {
    console.error(`console.test: the page's console errors:\n  ${problems.join('\n  ')}`);
  }
  await browser?.close().catch(() => {});
}
if (failed) process.exit(1);
step('PASS');
