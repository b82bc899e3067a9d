// The dashboard in a real browser (Debian's chromium through playwright-core)
// against a running daemon and a simulated fleet: a card per node, a slow
// pull's progress moving live, a fault turning a card red, an invalid
// revision's banner, "Reconcile now" with and without the local token, the
// keyboard, a phone-sized screen. Screenshots go to test-artifacts/dashboard/.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ollama } from 'ollama';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../reconciler/src/daemon/logger.ts';
import { startDaemon, type RunningDaemon } from '../../reconciler/src/daemon/run-daemon.ts';
import { createGuard, guardedFetch } from '../../reconciler/src/net/guard.ts';
import { startSimFleet, type SimFleet } from '../../reconciler/src/sim/fleet.ts';
import { createOrigin, pushCommit } from '../../reconciler/src/sim/origin.ts';
import { ARTIFACTS, browserMissing, launchBrowser } from './browser.ts';

const repo = join(import.meta.dirname, '..', '..');
// Skipped with the reason on a machine without chromium; in CI (.ci/run installs it) they run, and fail if it is missing.
const missing = process.env.CI === 'true' ? null : browserMissing();
if (missing) process.stderr.write(`skipping the dashboard browser tests: ${missing}\n`);

const WEBHOOK_SECRET = 'dashboard-test-webhook-secret';
const POLL = { timeout: 90_000, interval: 100 };
let root = '';
let sim: SimFleet;
let daemon: RunningDaemon;
let person = '';
let browser: { context: BrowserContext; close: () => Promise<void> } | undefined;
let page: Page;
/** Every request the overview page made after it loaded. */
const requests: string[] = [];

/** For hooks, where expect.poll is not allowed: the same generous deadline. */
async function until(what: string, check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 100) {
    if (waited > POLL.timeout) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(daemon.status().nodes)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The browser's globals, typed as far as these tests use them (the project's types are Node's, not the DOM's). */
interface BrowserGlobals {
  getComputedStyle(el: unknown): { borderLeftColor: string; color: string; backgroundColor: string };
  document: { activeElement: { textContent: string | null; getAttribute(name: string): string | null } | null; documentElement: { scrollWidth: number } };
  innerWidth: number;
}

const card = (node: string) => page.locator(`article.card[data-node="${node}"]`);
const shot = (name: string, p: Page = page) => p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

describe.skipIf(missing !== null)('dashboard in a real browser', () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fleet-dashboard-'));
    sim = await startSimFleet({
      stateDir: join(root, 'sim'),
      fromDir: join(repo, 'fleet'),
      preset: 'provisioned',
      // Slow enough to watch: llama3.1:8b (4.9 GB) takes about 20 s.
      ollama: { pullBytesPerSecond: 250e6, progressIntervalMs: 100 },
      controlEndpoint: false,
      cron: false,
    });
    ({ person } = await createOrigin(root, join(repo, 'fleet')));
    daemon = await startDaemon({
      repo: join(root, 'origin.git'),
      branch: 'main',
      workdir: join(root, 'fleetd'),
      targetsFile: sim.targetsPath,
      http: { host: '127.0.0.1', port: 0 },
      log: createLogger({ level: 'silent' }),
      pollIntervalMs: 500,
      // Observe every 3 s, so a fault shows within seconds.
      driftCron: '*/3 * * * * *',
      bobHome: join(root, 'bob'),
      webhookSecret: WEBHOOK_SECRET,
      backoffBaseMs: 100,
    });
    await until('three nodes in sync', () => daemon.status().nodes.filter((n) => n.status === 'in-sync').length === 3);
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(daemon.url);
    page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop();
    await sim?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('shows a card per node with its state, address, Ollama, models, memory and disk', async () => {
    await expect.poll(() => page.locator('article.card').count(), POLL).toBe(3);
    expect(await page.locator('article.card h3').allTextContents()).toEqual(['Bob', 'Maestro', 'Stagehand']);
    await expect.poll(() => page.locator('#live-state').textContent(), POLL).toBe('Live updates: on');
    for (const node of ['bob', 'maestro', 'stagehand']) {
      expect(await card(node).getAttribute('data-state')).toBe('in-sync');
      const address = sim.targets.nodes[node]?.addresses[0] ?? '';
      expect(await card(node).locator('.facts').textContent()).toContain(address);
    }
    const maestro = card('maestro');
    expect(await maestro.locator('.facts').textContent()).toMatch(/Ollama\s*up, version \d/);
    expect(await maestro.locator('.model-present code').allTextContents()).toEqual(expect.arrayContaining(['llama3.1:8b', 'mistral:7b']));
    expect(await maestro.locator('meter#mem-worst-maestro').getAttribute('max')).not.toBeNull();
    expect(await maestro.locator('meter#disk-maestro').count()).toBe(1);
    expect(await card('stagehand').locator('.facts').textContent()).toContain('not used by this role');
    expect(await page.locator('.fleet-header').textContent()).toMatch(/Last reconciles[\s\S]*start/);
    await shot('overview');
  });

  it('moves a slow pull\'s progress live: percent, bytes, MB/s and ETA', async () => {
    const before = requests.length;
    const maestroUrl = sim.targets.nodes.maestro?.ollama_url ?? '';
    await new Ollama({ host: maestroUrl, fetch: guardedFetch(createGuard({ loopbackOnly: true })) }).delete({ model: 'llama3.1:8b' });
    const pull = card('maestro').locator('li.pull[data-model="llama3.1:8b"]');
    await expect.poll(() => pull.count(), POLL).toBe(1);
    expect(await card('maestro').getAttribute('data-state')).toBe('converging');
    const seen = new Set<number>();
    let figures = '';
    await expect.poll(async () => {
      const text = await pull.locator('.pull-figures').textContent().catch(() => null);
      if (text) {
        figures = text;
        seen.add(Number(/(\d+)%/.exec(text)?.[1]));
      }
      return seen.size;
    }, POLL).toBeGreaterThanOrEqual(3);
    expect(figures).toMatch(/\d+(\.\d)? GB of 4\.9 GB/);
    expect(figures).toMatch(/\d+(\.\d)? MB\/s/);
    expect(figures).toMatch(/ETA \d+s|ETA \dm/);
    expect(Number(await pull.locator('progress').getAttribute('value'))).toBeGreaterThan(0);
    await shot('pull-progress');
    // /api/status carries the same transfer.
    const status = (await (await fetch(`${daemon.url}/api/status`)).json()) as { running: { node: string; transfer: { model: string; percent: number } | null }[] };
    expect(status.running.some((r) => r.node === 'maestro' && r.transfer?.model === 'llama3.1:8b')).toBe(true);
    await expect.poll(() => card('maestro').getAttribute('data-state'), POLL).toBe('in-sync');
    expect([...seen].sort((a, b) => a - b).at(-1)).toBeGreaterThan(Math.min(...seen));
    // The per-node series saw the bytes arrive.
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(Number(/fleet_node_pull_bytes_total\{node="maestro"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(4e9);
    expect(metrics).toContain('fleet_node_ollama_up{node="maestro"} 1');
    // Pushed, not polled: the page asked for nothing while it watched.
    expect(requests.slice(before)).toEqual([]);
  }, 120_000);

  it('turns a card red within seconds of a fault, and back when it clears', async () => {
    await sim.control.setFault('stagehand', 'down');
    await expect.poll(() => card('stagehand').getAttribute('data-severity'), POLL).toBe('bad');
    // A probe cut by the fault mid-way reads as an error (also red); the next observation says unreachable.
    await expect.poll(() => card('stagehand').locator('.badge').textContent(), POLL).toBe('unreachable');
    const color = await card('stagehand').evaluate((el) => (globalThis as unknown as BrowserGlobals).getComputedStyle(el).borderLeftColor);
    expect(color).toBe('rgb(180, 35, 24)');
    await shot('fault-red');
    await sim.control.clearFault('stagehand', 'down');
    await expect.poll(() => card('stagehand').getAttribute('data-severity'), POLL).toBe('ok');
  }, 120_000);

  it('shows an invalid revision as a banner with its errors, and removes it once fixed', async () => {
    const file = join(person, 'fleet', 'nodes', 'stagehand.yaml');
    await pushCommit(person, 'fleet: a role that does not exist', () => {
      writeFileSync(file, readFileSync(file, 'utf8').replace('role: browser_node', 'role: browser_nod'));
    });
    const banner = page.locator('#invalid-revision');
    await expect.poll(() => banner.count(), POLL).toBe(1);
    expect(await banner.getAttribute('role')).toBe('alert');
    expect(await banner.textContent()).toContain('fleet/nodes/stagehand.yaml');
    await shot('invalid-revision');
    await pushCommit(person, 'fleet: fix the role', () => {
      writeFileSync(file, readFileSync(file, 'utf8').replace('role: browser_nod', 'role: browser_node'));
    });
    await expect.poll(() => banner.count(), POLL).toBe(0);
  }, 120_000);

  it('reconciles only with the local token, and never shows it', async () => {
    const token = readFileSync(daemon.localTokenFile, 'utf8').trim();
    await page.fill('#token', 'not-the-token');
    await page.click('#reconcile-form button');
    await expect.poll(() => page.locator('#reconcile-result').textContent(), POLL).toMatch(/missing or wrong/);
    expect(daemon.status().history.some((h) => h.reasons.includes('manual'))).toBe(false);
    await page.fill('#token', token);
    await page.click('#reconcile-form button');
    await expect.poll(() => page.locator('#reconcile-result').textContent(), POLL).toBe('Reconcile queued.');
    await expect.poll(() => daemon.status().history.some((h) => h.reasons.includes('manual')), POLL).toBe(true);
    const html = await page.content();
    for (const secret of [token, WEBHOOK_SECRET]) {
      expect(html).not.toContain(secret);
      expect(await (await fetch(`${daemon.url}/api/status`)).text()).not.toContain(secret);
      expect(await (await fetch(`${daemon.url}/api/dashboard`)).text()).not.toContain(secret);
    }
  });

  it('works from the keyboard, keeps focus across live updates, and has readable colours', async () => {
    await page.goto(daemon.url);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.activeElement?.textContent)).toBe('Skip to content');
    const link = page.locator('a[data-focus-key="node-maestro"]');
    await link.focus();
    const updated = await page.locator('body').getAttribute('data-updated');
    await expect.poll(() => page.locator('body').getAttribute('data-updated'), POLL).not.toBe(updated);
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.activeElement?.getAttribute('data-focus-key'))).toBe('node-maestro');
    // Every badge's text against its background: WCAG AA, 4.5:1.
    const ratios = await page.locator('.badge').evaluateAll((els) => els.map((el) => {
      const rgb = (s: string) => (s.match(/\d+/g) ?? []).slice(0, 3).map(Number).map((c) => c / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      const lum = (s: string) => {
        const [r = 0, g = 0, b = 0] = rgb(s);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const style = (globalThis as unknown as BrowserGlobals).getComputedStyle(el);
      const [a, b] = [lum(style.color), lum(style.backgroundColor)].sort((x, y) => y - x);
      return ((a ?? 0) + 0.05) / ((b ?? 0) + 0.05);
    }));
    expect(ratios.length).toBe(3);
    for (const r of ratios) expect(r).toBeGreaterThanOrEqual(4.5);
    await link.focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/nodes\/maestro$/);
  });

  it('has a page per node: drift table, steps with reasons, recent events, worker entries', async () => {
    await page.goto(`${daemon.url}/nodes/maestro`);
    expect(await page.locator('h1').textContent()).toContain('Maestro');
    expect(await page.locator('#h-drift').count()).toBe(1);
    // The pull above left its events.
    expect(await page.locator('.events').textContent()).toMatch(/pull-model\/llama3\.1:8b done|pull of llama3\.1:8b started/);
    expect(await page.locator('table.workers').textContent()).toContain('maestro_ollama');
    await shot('node-page');
    // A drift shows observed against desired, with the reason for each step.
    await sim.control.setFault('maestro', 'ollama-down');
    await expect.poll(() => page.locator('article.card').getAttribute('data-severity'), POLL).toBe('bad');
    await sim.control.clearFault('maestro', 'ollama-down');
    await expect.poll(() => page.locator('article.card').getAttribute('data-severity'), POLL).toBe('ok');
    expect((await page.goto(`${daemon.url}/nodes/nobody`))?.status()).toBe(404);
  }, 120_000);

  it('fits a phone screen', async () => {
    const phone = await browser!.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(daemon.url);
    await expect.poll(() => phone.locator('#live-state').textContent(), POLL).toBe('Live updates: on');
    const overflow = await phone.evaluate(() => {
      const w = globalThis as unknown as BrowserGlobals;
      return w.document.documentElement.scrollWidth - w.innerWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('phone', phone);
    await phone.close();
  });
});
