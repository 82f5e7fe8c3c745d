// Opens hangdoc's HTML reports in headless Chromium and checks what a reader sees: the cause
// and the line to fix on the first screen, the wait-for graph, the group filters, the flame
// graph zoom, and that hostile evidence text runs no script. Then the same for the web UI of
// `hangdoc serve`: the overview with its sparklines, an incident's report with its chain
// graph, the compare page, and hostile target names, URLs and labels.
//
//   cargo build && (cd tests/browser && npm ci && node report.test.mjs)
//
// HANGDOC (default ../../target/debug/hangdoc) and CHROMIUM (default /usr/bin/chromium)
// override the binaries. Screenshots go to tests/browser/out/.
//
// The serve tests need a watch history: it is written by the Rust test
// tests/serve_demo_store.rs (real fixture bundles, diagnosed by hangdoc, stored through the
// store's own API), run here with `cargo test --test serve_demo_store` and
// HANGDOC_DEMO_STORE=tests/browser/out/serve-store; SERVE_STORE=DIR uses one already written.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const hangdoc = process.env.HANGDOC || join(repo, 'target/debug/hangdoc');
const out = join(here, 'out');
mkdirSync(out, { recursive: true });

function report(name, args) {
  const file = join(out, `${name}.html`);
  execFileSync(hangdoc, ['diagnose', ...args, '--format', 'html', '-o', file], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return pathToFileURL(file).href;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('redis-nested-pool: the cause and the line to fix are on the first screen', async (page) => {
  await page.goto(report('redis-nested-pool', [
    'tests/fixtures/scenarios/redis-nested-pool', '--src', 'scenarios/incidents',
  ]));
  const viewport = page.viewportSize();
  const fix = page.locator('#finding-1 .fix');
  await fix.waitFor();
  const box = await fix.boundingBox();
  assert.ok(box && box.y + box.height <= viewport.height, 'the fix-here line is below the fold');
  assert.match(await fix.innerText(), /main\.\(\*InboxStore\)\.ListUnacked[\s\S]*inbox\.go:30/);
  const focus = page.locator('#finding-1 .src .line.focus').first();
  const fbox = await focus.boundingBox();
  assert.ok(fbox && fbox.y + fbox.height <= viewport.height, 'the source line is below the fold');
  assert.match(await focus.innerText(), /s\.DropMessage\(user, id\)/);
  await page.screenshot({ path: join(out, 'redis-nested-pool-first-screen.png') });

  // The wait-for graph: four victim stacks, the pool, two blamed lines.
  const chain = page.locator('#finding-1 svg.chain-svg');
  assert.ok(await chain.isVisible());
  assert.equal(await chain.locator('g.victim').count(), 4);
  assert.equal(await chain.locator('g.resource').count(), 1);
  assert.equal(await chain.locator('g.root').count(), 2);
  const cbox = await chain.boundingBox();
  assert.ok(cbox.width > 300 && cbox.height > 100, `graph drawn at ${cbox.width}x${cbox.height}`);
});

test('redis-nested-pool: search and state filter narrow the stack groups', async (page) => {
  await page.goto(report('redis-nested-pool', ['tests/fixtures/scenarios/redis-nested-pool']));
  const groups = page.locator('#group-list .group');
  const visible = () => page.locator('#group-list .group:visible').count();
  const all = await groups.count();
  assert.ok(all > 3);
  assert.equal(await visible(), all);
  await page.fill('#group-search', 'presencestore touch');
  assert.equal(await visible(), 1);
  assert.match(await page.locator('#group-count').innerText(), /^1 of \d+ groups, 167 goroutines$/);
  await page.fill('#group-search', '');
  await page.selectOption('#state-filter', 'IO wait');
  const io = await visible();
  assert.ok(io >= 1 && io < all);
  for (const state of await page.locator('#group-list .group:visible').evaluateAll(
    (els) => els.map((e) => e.getAttribute('data-state')))) {
    assert.equal(state, 'IO wait');
  }
  await page.selectOption('#state-filter', '*');
  assert.equal(await visible(), all);
});

test('redis-nested-pool: the flame graph zooms into a clicked box and back', async (page) => {
  await page.goto(report('redis-nested-pool', ['tests/fixtures/scenarios/redis-nested-pool']));
  const svg = page.locator('#flame-svg');
  await svg.scrollIntoViewIfNeeded();
  const box = svg.locator('g.fb[data-n="main.(*InboxStore).ListUnacked"]').first();
  const before = Number(await box.locator('rect').getAttribute('width'));
  assert.ok(before < 1200);
  await box.click();
  assert.equal(Number(await box.locator('rect').getAttribute('width')), 1200);
  const hidden = await svg.locator('g.fb').evaluateAll(
    (els) => els.filter((e) => e.style.display === 'none').length);
  assert.ok(hidden > 0, 'boxes outside the zoomed one stay shown');
  await page.screenshot({ path: join(out, 'redis-nested-pool-flame.png'), fullPage: true });
  await page.click('#flame-reset');
  assert.equal(Number(await box.locator('rect').getAttribute('width')).toFixed(2), before.toFixed(2));
});

test('every incident fixture shows a finding with a line to fix on the first screen', async (page) => {
  for (const name of ['redis-nested-pool', 'logger-consumer-exited', 'http-no-timeout',
    'mutex-unlock-missed', 'sql-rows-leak']) {
    await page.goto(report(name, [`tests/fixtures/scenarios/${name}`]));
    const fix = page.locator('#finding-1 .fix');
    const box = await fix.boundingBox();
    assert.ok(box, `${name}: no fix-here line`);
    assert.ok(box.y + box.height <= page.viewportSize().height, `${name}: fix-here below the fold`);
  }
});

test('hostile labels, functions and paths run no script', async (page) => {
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(report('hostile', ['tests/browser/hostile-dump.txt']));
  await page.waitForLoadState('load');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  assert.equal(await page.locator('img').count(), 0);
  assert.equal(await page.locator('svg[onload]').count(), 0);
  assert.deepEqual(dialogs, []);
  assert.deepEqual(errors, []);
  // The text is shown as text, and the page's own script still ran (the filter counter).
  assert.match(await page.locator('#finding-1 .fix').innerText(), /onerror=window\.__pwned=3/);
  assert.match(await page.locator('#group-count').innerText(), /groups/);
  await page.fill('#group-search', 'onload');
  assert.ok(await page.locator('#group-list .group:visible').count() > 0);
});

// ---- hangdoc serve ----

function demoStore() {
  if (process.env.SERVE_STORE) { return process.env.SERVE_STORE; }
  const dir = join(out, 'serve-store');
  execFileSync('cargo', ['test', '-q', '--test', 'serve_demo_store'], {
    cwd: repo,
    env: { ...process.env, HANGDOC_DEMO_STORE: dir },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return dir;
}

// Starts `hangdoc serve` on a free port; resolves to { url, child }.
function startServe(args) {
  return new Promise((ok, fail) => {
    const child = spawn(hangdoc, ['serve', '--listen', '127.0.0.1:0', ...args], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
      const m = text.match(/listening on (http:\/\/\S+)/);
      if (m) { ok({ url: m[1], child }); }
    });
    child.on('exit', (code) => fail(new Error(`hangdoc serve exited with ${code}`)));
  });
}

const serve = await startServe([
  '--store', demoStore(),
  'tests/fixtures/scenarios/logger-consumer-exited',
  'tests/fixtures/scenarios/redis-nested-pool',
  'tests/browser/hostile-dump.txt',
]);
process.on('exit', () => serve.child.kill());

test('serve: the overview shows each target with a sparkline and each bundle', async (page) => {
  await page.goto(serve.url);
  const cards = page.locator('article.card.target');
  assert.equal(await cards.count(), 3);
  const api = cards.filter({ has: page.locator('h3 a', { hasText: /^api$/ }) });
  assert.match(await api.locator('h3 .status').innerText(), /up/i);
  const spark = api.locator('svg.spark polyline');
  assert.ok(await spark.isVisible(), 'no sparkline');
  const box = await api.locator('svg.spark').boundingBox();
  assert.ok(box.width > 200 && box.height > 20, `sparkline ${box.width}x${box.height}`);
  const worker = cards.filter({ has: page.locator('h3 a', { hasText: /^worker$/ }) });
  assert.match(await worker.locator('h3 .status').innerText(), /down/i);
  assert.equal(await page.locator('tr.bundle').count(), 3);
  assert.match(await page.locator('tr.bundle').nth(1).innerText(), /pool-nested-acquire-deadlock/);
  await page.screenshot({ path: join(out, 'serve-overview.png') });
});

test('serve: an incident opens its report with the chain graph and a way back', async (page) => {
  await page.goto(serve.url);
  const api = page.locator('article.card.target').filter({ has: page.locator('h3 a', { hasText: /^api$/ }) });
  await api.locator('h3 a').click();
  await page.locator('#state-chart').waitFor();
  assert.ok(await page.locator('#state-chart polygon.band').count() >= 3);
  // The older incident: redis-nested-pool.
  await page.locator('tr.incident a[href^="/incidents/"]').last().click();
  const fix = page.locator('#finding-1 .fix');
  await fix.waitFor();
  assert.match(await fix.innerText(), /main\.\(\*InboxStore\)\.ListUnacked[\s\S]*inbox\.go:30/);
  const chain = page.locator('#finding-1 svg.chain-svg');
  assert.ok(await chain.isVisible());
  assert.ok(await chain.locator('g.root').count() >= 1);
  assert.ok(await chain.locator('g.victim').count() >= 1);
  // The report's own script runs under the served policy (the group counter fills in).
  assert.match(await page.locator('#group-count').innerText(), /groups/);
  await page.screenshot({ path: join(out, 'serve-incident.png') });
  await page.locator('nav.served-nav a', { hasText: 'compare first and last snapshot' }).click();
  await page.locator('table.deltas').waitFor();
  await page.locator('nav.served-nav a').first().click();
  await page.locator('article.card.target').first().waitFor();
});

test('serve: compare shows what grew between the first and last snapshot', async (page) => {
  await page.goto(`${serve.url}compare?a=bundle:0`);
  const first = page.locator('table.deltas tbody tr').first();
  assert.equal(await first.getAttribute('data-change'), 'grown');
  const cells = await first.locator('td').allInnerTexts();
  const [before, after, delta] = cells.slice(1, 4).map(Number);
  assert.ok(after > before && delta === after - before, cells.join(' | '));
  const totals = [await page.locator('#total-before').innerText(), await page.locator('#total-after').innerText()].map(Number);
  assert.ok(totals[1] > totals[0], `totals ${totals}`);
  assert.match(await page.locator('#stuck-summary').innerText(), /^\d+ goroutines are stuck in both/);
  await page.screenshot({ path: join(out, 'serve-compare.png'), fullPage: true });
  // Another pair through the form: the last snapshot against itself changes nothing.
  const last = await page.locator('select[name="b"] option[selected]').getAttribute('value');
  await page.selectOption('select[name="a"]', last);
  await page.click('form.pick button');
  await page.waitForURL(/compare\?a=/);
  assert.equal(await page.locator('table.deltas tr[data-change="grown"]').count(), 0);
});

test('serve: hostile target names, URLs, states and labels run no script', async (page) => {
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(serve.url);
  const hostile = page.locator('article.card.target').filter({ hasText: 'onerror=window.__pwned=11' });
  assert.equal(await hostile.count(), 1);
  assert.match(await hostile.locator('h3 a').innerText(), /<img src=x onerror=window\.__pwned=11>/);
  assert.equal(await hostile.locator('.url a').count(), 0, 'a javascript: URL became a link');
  const pages = [serve.url, new URL(await hostile.locator('h3 a').getAttribute('href'), serve.url).href];
  pages.push(new URL(await hostile.locator('.latest a').getAttribute('href'), serve.url).href);
  pages.push(`${serve.url}bundles/2`, `${serve.url}compare?a=bundle:2`);
  for (const p of pages) {
    await page.goto(p);
    await page.waitForLoadState('load');
    assert.equal(await page.evaluate(() => window.__pwned), undefined, p);
    assert.equal(await page.locator('img').count(), 0, p);
    assert.equal(await page.locator('svg[onload], b[onmouseover]').count(), 0, p);
  }
  assert.deepEqual(dialogs, []);
  assert.deepEqual(errors, []);
});

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
let failed = 0;
for (const { name, fn } of tests) {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const started = Date.now();
  try {
    await fn(page);
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${name}\n     ${e.stack || e}`);
  } finally {
    await page.close();
  }
}
await browser.close();
serve.child.kill();
console.log(`${tests.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
