// Opens hangdoc's HTML reports in headless Chromium and checks what a reader sees: the cause
// and the line to fix on the first screen, the wait-for graph, the group filters, the flame
// graph zoom, and that hostile evidence text runs no script.
//
//   cargo build && (cd tests/browser && npm ci && node report.test.mjs)
//
// HANGDOC (default ../../target/debug/hangdoc) and CHROMIUM (default /usr/bin/chromium)
// override the binaries. Screenshots go to tests/browser/out/.

import { execFileSync } from 'node:child_process';
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
console.log(`${tests.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
