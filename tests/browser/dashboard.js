// Drives Debian's chromium (headless) through Slipway's dashboard while a run goes on, as a developer would:
// the runs list shows the run and, without reloading, its progress moving to the end; the run page shows its
// steps and a step's log; every page also at a phone's width. Screenshots go to SCREENSHOTS.
// Usage: node dashboard.js REPORTER_URL PROJECT RUN_ID SCREENSHOTS_DIR
// Prints one JSON line with what it saw; exits non-zero (with the reason on stderr) when something is missing.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

const [reporter, project, runId, shots] = process.argv.slice(2);
const FINISH_MS = 8 * 60 * 1000;

(async () => {
  fs.mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'], // playwright gives it a fresh profile of its own
  });
  const seen = {};
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${reporter}/?project=${encodeURIComponent(project)}`);
    const row = page.locator(`tr[data-run="${runId}"]`);
    await row.waitFor({ timeout: 60_000 });
    seen.firstProgress = (await row.locator('progress').getAttribute('value'));
    seen.firstState = (await row.locator('.badge').innerText());
    await page.screenshot({ path: path.join(shots, 'runs-running.png'), fullPage: true });
    // Live: the same page, never reloaded, shows the run finishing.
    await page.waitForFunction(id => {
      const badge = document.querySelector(`tr[data-run="${id}"] .badge`);
      return badge && badge.textContent !== 'running';
    }, runId, { timeout: FINISH_MS, polling: 500 });
    seen.lastState = await row.locator('.badge').innerText();
    seen.lastProgress = await row.locator('progress').getAttribute('value');
    seen.total = await row.locator('progress').getAttribute('max');
    await page.screenshot({ path: path.join(shots, 'runs.png'), fullPage: true });

    await row.locator('a').first().click();
    await page.waitForSelector('#steps');
    seen.steps = await page.locator('tr[data-step]').evaluateAll(rows => rows.map(r => r.getAttribute('data-step')));
    seen.stepStates = await page.locator('tr[data-step] .badge').allInnerTexts();
    const details = page.locator('details').first();
    await details.locator('summary').click();
    seen.log = await details.locator('pre.log').innerText();
    await page.screenshot({ path: path.join(shots, 'run.png'), fullPage: true });

    await page.goto(`${reporter}/trends?project=${encodeURIComponent(project)}`);
    seen.trendCharts = await page.locator('svg.trend').count();
    await page.screenshot({ path: path.join(shots, 'trends.png'), fullPage: true });

    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await phone.goto(`${reporter}/?project=${encodeURIComponent(project)}`);
    seen.phoneOverflow = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    await phone.screenshot({ path: path.join(shots, 'runs-phone.png'), fullPage: true });
    await phone.goto(`${reporter}/runs/${encodeURIComponent(runId)}`);
    seen.phoneRunOverflow = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    await phone.screenshot({ path: path.join(shots, 'run-phone.png'), fullPage: true });
    console.log(JSON.stringify(seen));
  } finally {
    await browser.close();
  }
})().catch(e => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
