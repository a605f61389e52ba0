// Real-browser end-to-end journey for dianxiaoer (店小二).
//
// Starts `$DXE_BIN demo` on a free loopback port with a fresh data dir, drives the system
// Chromium (/usr/bin/chromium) through playwright-core, and signs in as six demo roles in turn.
// Prints one `ok`/`FAIL` line per check, then exactly one line `N passed, M failed`.
// Exit code: 0 when every check passed, 1 otherwise (including when the app did not start).
//
// Run from the repository root:  node tests/browser/journey.mjs

import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = process.env.DXE_BIN || join(REPO, 'target', 'debug', 'dianxiaoer');
const SHOTS = join(REPO, 'target', 'browser');
const CHROMIUM = '/usr/bin/chromium';
const PASSWORD = 'Demo@2026';
const START_TIMEOUT_MS = 180_000;
const STEP_TIMEOUT_MS = 30_000; // debug builds render 200-row pages slowly
const VIEWPORT = { width: 1440, height: 900 };
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// ---------------------------------------------------------------- bookkeeping

let passed = 0;
let failed = 0;

function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`ok   - ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL - ${name}${detail ? ` (${detail})` : ''}`);
  }
  return !!ok;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------- TOTP (RFC 6238 / RFC 4226)

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const clean = s.toUpperCase().replace(/=+$/, '').replace(/\s+/g, '');
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of clean) {
    const idx = alphabet.indexOf(ch);
    if (idx < 0) throw new Error(`invalid base32 character ${JSON.stringify(ch)}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

function totpAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, '0');
}

const usedStep = new Map(); // username -> last TOTP step used, a code is accepted once per step

async function freshTotp(username, secret) {
  let step = Math.floor(Date.now() / 30_000);
  // Also avoid the last 2 s of a step so the code is still current when the server checks it
  // (the server accepts ±1 step, so this is only belt and braces).
  while ((usedStep.has(username) && step <= usedStep.get(username)) || Date.now() % 30_000 > 28_000) {
    await sleep(500);
    step = Math.floor(Date.now() / 30_000);
  }
  usedStep.set(username, step);
  return totpAt(secret, step);
}

// ---------------------------------------------------------------- GB 32100-2015 check digit

function withCheckDigit(first17) {
  const chars = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  const sum = [...first17].reduce((acc, ch, i) => acc + chars.indexOf(ch) * weights[i], 0);
  return first17 + chars[(31 - (sum % 31)) % 31];
}

// ---------------------------------------------------------------- the app

async function startApp(dataDir) {
  const child = spawn(BIN, ['demo', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    env: { ...process.env, DXE_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { out.stdout += d; });
  child.stderr.on('data', (d) => { out.stderr += d; });
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  child.once('error', (e) => { out.stderr += `\n[spawn error] ${e.message}`; });

  const deadline = Date.now() + START_TIMEOUT_MS;
  let url = null;
  let exitInfo = null;
  exited.then((x) => { exitInfo = x; });
  while (Date.now() < deadline) {
    const m = out.stdout.match(/店小二已启动：(http:\/\/\S+?)\/?\s*$/m);
    if (m) { url = m[1]; break; }
    if (exitInfo || child.exitCode !== null) break;
    await sleep(200);
  }
  const secrets = {};
  for (const line of out.stdout.split('\n')) {
    const m = line.match(/^\s+(\S+)\s.*动态口令密钥\s+([A-Z2-7]+)\s*$/);
    if (m) secrets[m[1]] = m[2];
  }
  return { child, out, url, secrets, exited };
}

async function stopApp(app) {
  if (!app || !app.child) return;
  const { child, exited } = app;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!done) {
      child.kill('SIGKILL');
      await Promise.race([exited, sleep(5_000)]);
    }
  }
}

// ---------------------------------------------------------------- page helpers

function isLoopback(u) {
  try {
    const h = new URL(u).hostname;
    return h === '127.0.0.1' || h === 'localhost' || h === '[::1]' || h === '::1';
  } catch {
    return false;
  }
}

async function newSession(browser) {
  const context = await browser.newContext({ viewport: VIEWPORT, locale: 'zh-CN' });
  // No network except loopback: anything else is aborted before it leaves the browser.
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith('data:') || u.startsWith('blob:') || isLoopback(u)) return route.continue();
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  return { context, page };
}

async function shot(page, name, opts = {}) {
  const path = join(SHOTS, name);
  await page.screenshot({ path, ...opts });
  return path;
}

async function submitLogin(page, base, username, password) {
  await page.goto(`${base}/login`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click('button[type=submit]'),
  ]);
}

/** Signs a user in; returns the path of the page they land on. */
async function login(page, base, username, secret) {
  await submitLogin(page, base, username, PASSWORD);
  let path = new URL(page.url()).pathname;
  if (secret && path === '/login/totp') {
    const code = await freshTotp(username, secret);
    await page.fill('input[name=code]', code);
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.click('form[action="/login/totp"] button[type=submit]'),
    ]);
    path = new URL(page.url()).pathname;
  }
  return path;
}

async function navLabels(page) {
  return (await page.locator('nav.side a').allInnerTexts()).map((s) => s.trim());
}

async function logout(page) {
  await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click('form[action="/logout"] button'),
  ]);
  return new URL(page.url()).pathname;
}

async function pagerTotal(page) {
  const text = await page.locator('.pager').first().innerText();
  const m = text.match(/共\s*(\d+)\s*条/);
  return m ? Number(m[1]) : NaN;
}

async function enterpriseRows(page) {
  return page.locator('[data-testid=enterprise-table] tr[data-enterprise-id]').evaluateAll((rows) =>
    rows.map((r) => ({ id: Number(r.getAttribute('data-enterprise-id')), town: r.getAttribute('data-town') })),
  );
}

function sameIds(a, b) {
  if (a.length !== b.length) return false;
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  return x.every((v, i) => v === y[i]);
}

/** Runs one part of the journey; an exception there is one failed check, and the journey goes on. */
async function step(name, browser, fn) {
  const { context, page } = await newSession(browser);
  try {
    await fn(page);
  } catch (e) {
    check(`${name}: completes without error`, false, String(e && e.message ? e.message : e).split('\n')[0]);
    try {
      await shot(page, `fail-${name.replace(/[^a-z0-9]+/gi, '-')}.png`, { fullPage: true });
    } catch { /* the page may be gone */ }
  } finally {
    await context.close().catch(() => {});
  }
}

// ---------------------------------------------------------------- the journey

async function journey(browser, base, secrets) {
  const state = { townTotal: NaN, leaderIds: [] };

  // 1. The login page, and a wrong password.
  await step('1-login', browser, async (page) => {
    const resp = await page.goto(`${base}/login`);
    check('1 login page answers 200', resp && resp.status() === 200, `status ${resp && resp.status()}`);
    const parts = await Promise.all([
      page.locator('input[name=username]').count(),
      page.locator('input[name=password]').count(),
      page.locator('button[type=submit]', { hasText: '登录' }).count(),
    ]);
    check('1 login form has username, password and 登录 button', parts.every((n) => n === 1), parts.join('/'));
    await shot(page, '01-login.png');
    await submitLogin(page, base, 'staff', 'wrong-password-1');
    const err = page.locator('.notice.err');
    const text = (await err.count()) ? await err.first().innerText() : '';
    check('1 wrong password shows 用户名或密码错误', text.includes('用户名或密码错误'), `notice: ${JSON.stringify(text)}`);
  });

  // 2. A town official sees exactly their town's enterprises, in the page and in the API.
  await step('2-xujiahu', browser, async (page) => {
    const landed = await login(page, base, 'xujiahu');
    check('2 xujiahu lands on /', landed === '/', `landed on ${landed}`);
    const user = (await page.locator('[data-testid=current-user]').innerText()).trim();
    check('2 current user name is shown', user.length > 0, JSON.stringify(user));
    const nav = await navLabels(page);
    check('2 nav has 企业档案 but not 用户管理/审计日志',
      nav.includes('企业档案') && !nav.includes('用户管理') && !nav.includes('审计日志'), nav.join(','));
    const resp = await page.goto(`${base}/enterprises?per_page=200`);
    check('2 /enterprises answers 200', resp && resp.status() === 200, `status ${resp && resp.status()}`);
    const rows = await enterpriseRows(page);
    const total = await pagerTotal(page);
    state.townTotal = total;
    const api = await page.request.get(`${base}/api/v1/enterprises?per_page=200`);
    const body = api.ok() ? await api.json() : null;
    const apiIds = body && Array.isArray(body.items) ? body.items.map((e) => Number(e.id)) : [];
    check('2 API answers with the browser session', api.ok() && body !== null, `status ${api.status()}`);
    check('2 total N > 0 and pager total equals API total', total > 0 && body && body.total === total,
      `pager ${total}, api ${body && body.total}`);
    check('2 table row ids equal API ids', rows.length > 0 && sameIds(rows.map((r) => r.id), apiIds),
      `rows ${rows.length}, api ${apiIds.length}`);
    // A town's scope is the enterprises hosted in OR introduced by the town (core/src/access.rs,
    // Scope::Town), so a row's data-town (the host town) may be another town when 许家湖镇 introduced it.
    const items = body && Array.isArray(body.items) ? body.items : [];
    const townCodes = new Set(items.filter((e) => e.host_town_name === '许家湖镇').map((e) => e.host_town));
    const outside = items.filter((e) => !townCodes.has(e.host_town) && !townCodes.has(e.introducer_town));
    const byId = new Map(items.map((e) => [Number(e.id), e.host_town_name]));
    const hostedRows = rows.filter((r) => r.town === '许家湖镇').length;
    check('2 every row is hosted in or introduced by 许家湖镇',
      townCodes.size === 1 && hostedRows > 0 && outside.length === 0 && rows.every((r) => byId.get(r.id) === r.town),
      `town codes ${[...townCodes].join(',')}, hosted rows ${hostedRows}, outside ${outside.map((e) => e.id).join(',')}`);
    await shot(page, '02-town-enterprises.png', { fullPage: true });
    // The enclave economy as a town sees it: the coverage of all 18 towns, its own statement only.
    await page.goto(`${base}/revenue/coverage`);
    const summary = (await page.locator('[data-testid=coverage-summary]').innerText()).trim();
    const coverageRows = await page.locator('[data-testid=coverage] tbody tr').count();
    check('2 coverage lists all 18 towns, each with an enterprise in the zone',
      coverageRows === 18 && summary.includes('18 个乡镇（街道）中 18 个'), `${coverageRows} rows, ${summary}`);
    await shot(page, '02-town-coverage.png', { fullPage: true });
    const settlements = await page.request.get(`${base}/api/v1/revenue/settlements`);
    const list = settlements.ok() ? await settlements.json() : [];
    check('2 the town sees confirmed settlements only',
      Array.isArray(list) && list.length > 0 && list.every((x) => x.status === 'confirmed'), `status ${settlements.status()}`);
    const after = await logout(page);
    check('2 logout returns to /login', after === '/login', `at ${after}`);
  });

  // 3. The leader sees the whole zone.
  await step('3-leader', browser, async (page) => {
    const landed = await login(page, base, 'leader');
    check('3 leader lands on /', landed === '/', `landed on ${landed}`);
    await page.goto(`${base}/enterprises?per_page=200`);
    const total = await pagerTotal(page);
    state.leaderIds = (await enterpriseRows(page)).map((r) => r.id);
    console.log(`# town total N = ${state.townTotal}, leader total M = ${total}`);
    check('3 leader total M > town total N', total > state.townTotal, `M ${total}, N ${state.townTotal}`);
    await page.goto(`${base}/`);
    await shot(page, '03-leader-home.png');
    await logout(page);
  });

  // 4. An enterprise user sees only its own file.
  await step('4-qiye', browser, async (page) => {
    const landed = await login(page, base, 'qiye');
    check('4 qiye lands on /', landed === '/', `landed on ${landed}`);
    await page.goto(`${base}/enterprises`);
    const rows = await enterpriseRows(page);
    check('4 /enterprises shows exactly 1 row', rows.length === 1, `${rows.length} rows`);
    const own = rows[0] && rows[0].id;
    const other = state.leaderIds.find((id) => id !== own);
    if (other === undefined) {
      check('4 another enterprise gives 404 页面或记录不存在', false, 'no other enterprise id from the leader list');
    } else {
      const resp = await page.goto(`${base}/enterprises/${other}`);
      const body = await page.locator('body').innerText();
      check('4 another enterprise gives 404 页面或记录不存在',
        resp && resp.status() === 404 && body.includes('页面或记录不存在'), `status ${resp && resp.status()}`);
    }
    if (own) {
      const resp = await page.goto(`${base}/enterprises/${own}`);
      const name = resp && resp.status() === 200
        ? (await page.locator('[data-testid=enterprise-name]').innerText()).trim() : '';
      check('4 own enterprise file shows its name', name.length > 0, `status ${resp && resp.status()}, name ${JSON.stringify(name)}`);
      await page.fill('#contacts input[name=name]', '周敏');
      await page.fill('#contacts input[name=position]', '设备主管');
      await page.fill('#contacts input[name=phone]', '13905390001');
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#contacts button[type=submit]:has-text("添加联系人")')]);
      const contacts = await page.locator('[data-testid=contacts]').innerText();
      check('4 qiye adds a further contact to its own file', contacts.includes('周敏') && contacts.includes('设备主管')
        && contacts.includes('13905390001'), contacts.slice(0, 200));
      const history = await page.locator('body').innerText();
      check('4 the change history names the new contact', history.includes('添加联系人') && history.includes('周敏（设备主管）'));
      await shot(page, '04-enterprise-file.png', { fullPage: true });
    } else {
      check('4 own enterprise file shows its name', false, 'no own row');
    }
    await logout(page);
  });

  // 5. The system admin, with TOTP: manages users, reads no business data.
  await step('5-admin', browser, async (page) => {
    if (!check('5 admin TOTP secret printed at start-up', !!secrets.admin)) return;
    await submitLogin(page, base, 'admin', PASSWORD);
    const mid = new URL(page.url()).pathname;
    check('5 admin password leads to /login/totp', mid === '/login/totp', `at ${mid}`);
    const code = await freshTotp('admin', secrets.admin);
    await page.fill('input[name=code]', code);
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form[action="/login/totp"] button[type=submit]')]);
    const landed = new URL(page.url()).pathname;
    check('5 admin with TOTP lands on /', landed === '/', `landed on ${landed}`);
    const nav = await navLabels(page);
    check('5 nav has 用户管理 but not 企业档案', nav.includes('用户管理') && !nav.includes('企业档案'), nav.join(','));
    const resp = await page.goto(`${base}/enterprises`);
    const body = await page.locator('body').innerText();
    check('5 /enterprises gives 403 无权访问', resp && resp.status() === 403 && body.includes('无权访问'),
      `status ${resp && resp.status()}`);
    const users = await page.goto(`${base}/admin/users`);
    const cells = await page.locator('table.grid tbody tr td:first-child').allInnerTexts();
    const names = cells.map((s) => s.trim());
    check('5 /admin/users lists the demo users',
      users && users.status() === 200 && ['admin', 'auditor', 'xujiahu', 'qiye'].every((u) => names.includes(u)),
      `status ${users && users.status()}, users ${names.join(',')}`);
    await shot(page, '05-admin-users.png', { fullPage: true });
    await logout(page);
  });

  // 7. Department staff keep the registry: a form with a field error, then a new enterprise, then an
  //    Excel import of the downloaded template.
  await step('7-staff', browser, async (page) => {
    const landed = await login(page, base, 'staff', null);
    check('7 staff lands on /', landed === '/', `landed on ${landed}`);
    await page.goto(`${base}/enterprises/new`);
    await page.fill('input[name=credit_code]', '91371323MA3F00001X');
    await page.fill('input[name=name]', '沂水浏览器测试机械有限公司');
    await page.fill('input[name=legal_representative]', '周明');
    await page.fill('input[name=industry_code]', 'C3484');
    await page.selectOption('select[name=host_town]', '371323001');
    await page.fill('input[name=address]', '沂水经济开发区长安路66号');
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form.grid3 button[type=submit]')]);
    const err = (await page.locator('.field-error').allInnerTexts()).join(' ');
    check('7 a wrong check digit is shown beside the field', err.includes('校验码错误'), JSON.stringify(err));
    check('7 typed values are kept', (await page.inputValue('input[name=name]')) === '沂水浏览器测试机械有限公司');
    await page.fill('input[name=credit_code]', withCheckDigit('91371323MA3F00001'));
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('form.grid3 button[type=submit]')]);
    const name = (await page.locator('[data-testid=enterprise-name]').count())
      ? (await page.locator('[data-testid=enterprise-name]').innerText()).trim() : '';
    check('7 the new enterprise file opens', name === '沂水浏览器测试机械有限公司', `at ${page.url()}, name ${JSON.stringify(name)}`);
    await shot(page, '07-new-enterprise.png', { fullPage: true });
    const template = await page.request.get(`${base}/enterprises/import/template.xlsx`);
    check('7 the import template downloads', template.ok(), `status ${template.status()}`);
    await page.goto(`${base}/enterprises/import`);
    await page.setInputFiles('input[type=file]', {
      name: '企业导入.xlsx',
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: Buffer.from(await template.body()),
    });
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.getByRole('button', { name: '导入' }).click()]);
    const done = (await page.locator('[data-testid=import-done]').count())
      ? await page.locator('[data-testid=import-done]').innerText() : '';
    check('7 the template imports', done.includes('新增 1 家'), JSON.stringify(done));
    await shot(page, '08-import.png');
    // The live gas monitor: a leak reported through the ingest API turns its row to 二级 without a reload.
    await page.goto(`${base}/gas/monitor`);
    const tag = (await page.locator('#monitor tbody tr code').first().innerText()).trim();
    const csrf = await page.locator('input[name=_csrf]').first().getAttribute('value');
    const keyResp = await page.request.post(`${base}/api/v1/api-keys`, { headers: { 'x-csrf-token': csrf }, data: { name: '采集网关' } });
    const key = keyResp.ok() ? (await keyResp.json()).key : '';
    try {
      await page.getByText('实时推送已连接').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
    } catch { /* reported below */ }
    const ingest = await page.request.post(`${base}/api/v1/gas/readings`, {
      headers: { authorization: `Bearer ${key}` }, data: { readings: [{ tag, ts: Date.now(), value: 99 }] },
    });
    check('7 the ingest API accepts a reading with an API key', ingest.status() === 202, `status ${ingest.status()}`);
    const row = page.locator(`#monitor tr[data-state="level2"]:has(code:text-is("${tag}"))`);
    let live = false;
    try {
      await row.waitFor({ state: 'attached', timeout: 3000 });
      live = true;
    } catch { /* reported below */ }
    check('7 the monitor shows the leak as 二级 within seconds, without reloading', live, tag);
    let valueLive = false;
    try {
      await page.waitForFunction((t) => [...document.querySelectorAll('#monitor tbody tr')].some((tr) =>
        tr.querySelector('code')?.textContent.trim() === t
          && (tr.querySelector('[data-role=value]')?.textContent || '').startsWith('99 ')), tag, { timeout: 3000 });
      valueLive = true;
    } catch { /* reported below */ }
    check('7 the monitor shows the new value within seconds, without reloading', valueLive, tag);
    await shot(page, '09-gas-monitor.png');
    // The map zooms and pans; a detector's dot keeps its size on screen.
    const before = await page.getAttribute('svg.gas-map', 'viewBox');
    await page.click('[data-map-zoom=in]');
    await page.click('[data-map-zoom=in]');
    const zoomed = await page.getAttribute('svg.gas-map', 'data-zoom');
    const mapBox = await page.locator('svg.gas-map').boundingBox();
    await page.mouse.move(mapBox.x + 40, mapBox.y + 40);
    await page.mouse.down();
    await page.mouse.move(mapBox.x + 140, mapBox.y + 90, { steps: 4 });
    await page.mouse.up();
    const after = await page.getAttribute('svg.gas-map', 'viewBox');
    check('7 the gas map zooms and pans', zoomed === '2.25' && after !== before, `${before} → ${after}, zoom ${zoomed}`);
    await page.click('[data-map-zoom=reset]');
    // The detector's page charts its readings as server-drawn SVG.
    const href = await page.locator(`#monitor tr:has(code:text-is("${tag}")) a`).first().getAttribute('href');
    await page.goto(`${base}${href}?range=6h`);
    const marks = await page.locator('svg[data-testid=chart-svg] circle.mark').count();
    const refs = await page.locator('svg[data-testid=chart-svg] line.ref').count();
    check('7 the detector page charts the reading with its set-points', marks >= 1 && refs === 2, `${marks} marks, ${refs} set-point lines`);
    await shot(page, '10-gas-chart.png', { fullPage: true });
    // Settlements: drafting a range from the newest confirmed month to the draft after it redrafts the
    // draft and leaves the confirmed month as it was.
    await page.goto(`${base}/revenue/settlements`);
    const periods = await page.locator('[data-testid=settlements] tbody tr[data-period]').evaluateAll(
      (trs) => trs.map((tr) => [tr.dataset.period, tr.querySelector('td:nth-child(2)')?.textContent.trim() || '']));
    const open = periods.find(([, st]) => st.startsWith('草稿'));
    const confirmedBefore = periods.find(([p, st]) => st.startsWith('已确认') && open && p < open[0]);
    if (check('7 the settlements list has a draft after a confirmed month', !!open && !!confirmedBefore, JSON.stringify(periods.slice(0, 3)))) {
      await page.fill('input[name=period]', confirmedBefore[0]);
      await page.fill('input[name=to]', open[0]);
      await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.getByRole('button', { name: '起草结算' }).click()]);
      const notice = (await page.locator('.notice').allInnerTexts()).join(' ');
      check('7 a range of months is drafted from the list page', notice.includes('所选月份中未确认的结算均已起草'), JSON.stringify(notice));
      const status = async (p) => (await page.locator(`tr[data-period="${p}"] td:nth-child(2)`).innerText()).trim();
      check('7 the confirmed month stays confirmed, the open one is a draft again',
        (await status(confirmedBefore[0])).startsWith('已确认') && (await status(open[0])).startsWith('草稿'),
        `${await status(confirmedBefore[0])} / ${await status(open[0])}`);
      await shot(page, '11-settlements.png', { fullPage: true });
    }
    await logout(page);
  });

  // 6. The audit admin, with TOTP: reads the log and verifies the chain.
  await step('6-auditor', browser, async (page) => {
    if (!check('6 auditor TOTP secret printed at start-up', !!secrets.auditor)) return;
    const landed = await login(page, base, 'auditor', secrets.auditor);
    check('6 auditor with TOTP lands on /', landed === '/', `landed on ${landed}`);
    await page.goto(`${base}/audit/logs`);
    const rows = await page.locator('table.grid tbody tr:not(:has(td.empty))').count();
    check('6 /audit/logs shows rows', rows > 0, `${rows} rows`);
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.getByRole('button', { name: '校验审计链' }).click(),
    ]);
    const result = page.getByText('审计链完整');
    let shown = false;
    try {
      await result.first().waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
      shown = true;
    } catch { /* reported below */ }
    const notice = (await page.locator('[data-testid=chain-result]').count())
      ? await page.locator('[data-testid=chain-result]').first().innerText() : '';
    check('6 校验审计链 reports 审计链完整', shown, JSON.stringify(notice));
    await shot(page, '06-audit.png');
    await logout(page);
  });
}

// ---------------------------------------------------------------- main

async function main() {
  await mkdir(SHOTS, { recursive: true });
  if (!existsSync(BIN)) {
    check('app binary exists', false, BIN);
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'dxe-browser-'));
  let app = null;
  let browser = null;
  const cleanup = async () => {
    if (browser) await browser.close().catch(() => {});
    await stopApp(app);
    await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  };
  const onSignal = (sig) => {
    cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    app = await startApp(dataDir);
    const started = !!app.url && isLoopback(app.url);
    if (!check('app starts and prints 店小二已启动：URL', started, app.url || 'no URL line')) {
      console.log('--- app stdout (tail) ---\n' + app.out.stdout.slice(-2000));
      console.log('--- app stderr (tail) ---\n' + app.out.stderr.slice(-2000));
      return;
    }
    const base = app.url.replace(/\/$/, '');
    console.log(`# app at ${base}, TOTP secrets for: ${Object.keys(app.secrets).join(', ') || 'none'}`);
    // chromium.launch gives every run a fresh temporary user-data-dir of its own.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await journey(browser, base, app.secrets);
    if (app.child.exitCode !== null) check('app still running at the end', false, `exit ${app.child.exitCode}`);
  } catch (e) {
    check('journey runs', false, String(e && e.message ? e.message : e).split('\n')[0]);
  } finally {
    await cleanup();
  }
}

await main();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
