// Drives Debian's chromium (headless) through Slipway's environments page as a release engineer would: the run
// waits for production; a wrong token is refused with a clear message; the approver's token approves; the page then
// shows production running the run's image, approved by the approver; a rollback with nothing earlier is refused by
// the deployer with its reason. Also read without JavaScript and at a phone's width. Screenshots go to SCREENSHOTS.
// Usage: SLIPWAY_TOKEN=... node environments.js REPORTER_URL RUN_ID SERVICE SCREENSHOTS_DIR
// Prints one JSON line with what it saw; exits non-zero (with the reason on stderr) when something is missing.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

const [reporter, runId, service, shots] = process.argv.slice(2);
const token = process.env.SLIPWAY_TOKEN;
const ROLLOUT_MS = 6 * 60 * 1000;

// Reloads until the selector shows (the page is also live, but a reload is what a person without JavaScript does).
async function waitWithReload(page, selector, ms) {
  const until = Date.now() + ms;
  for (;;) {
    if (await page.locator(selector).count() > 0) return;
    if (Date.now() > until) throw new Error(`${selector} did not appear on ${page.url()} within ${ms} ms`);
    await page.waitForTimeout(2000);
    await page.reload();
  }
}

// Submits a form and returns the answer page's HTTP status and message.
async function submit(page, form) {
  const [response] = await Promise.all([page.waitForNavigation(), form.locator('button').click()]);
  return { status: response.status(), message: await page.locator('#outcome').innerText() };
}

(async () => {
  if (!token) throw new Error('SLIPWAY_TOKEN is not set');
  fs.mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const seen = {};
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const waiting = `.waiting-approval[data-run="${runId}"][data-environment="production"]`;
    await page.goto(`${reporter}/environments`);
    await waitWithReload(page, waiting, 60_000);
    await page.screenshot({ path: path.join(shots, 'environments-waiting.png'), fullPage: true });

    await page.locator(`${waiting} input[name=token]`).fill('not-a-token-of-anyone-0000');
    seen.wrongToken = await submit(page, page.locator(`${waiting} form`));

    await page.goto(`${reporter}/environments`);
    await page.locator(`${waiting} input[name=token]`).fill(token);
    seen.approve = await submit(page, page.locator(`${waiting} form`));

    await page.goto(`${reporter}/environments`);
    const production = `.service[data-environment="production"][data-service="${service}"]`;
    await waitWithReload(page, `${production} .current a[href="/runs/${runId}"]`, ROLLOUT_MS);
    seen.productionApprovedBy = await page.locator(`${production} .current .approved-by`).innerText();
    seen.productionImage = await page.locator(`${production} .image`).innerText();
    seen.stillWaiting = await page.locator(waiting).count();
    await page.screenshot({ path: path.join(shots, 'environments.png'), fullPage: true });

    await page.locator(`${production} details.rollback summary`).click();
    await page.locator(`${production} details.rollback input[name=token]`).fill(token);
    seen.rollback = await submit(page, page.locator(`${production} details.rollback form`));

    // The run's page: its execution graph (every stage succeeded once the run ends), images, approval and trace id.
    await page.goto(`${reporter}/runs/${encodeURIComponent(runId)}`);
    const until = Date.now() + 90_000;
    for (;;) {
      const states = await page.locator('svg.graph g.stage').evaluateAll(gs => gs.map(g => g.getAttribute('data-state')));
      if (states.length > 0 && states.every(x => x === 'succeeded')) break;
      if (Date.now() > until) throw new Error(`the run page's graph did not turn all succeeded: ${states}`);
      await page.waitForTimeout(2000);
      await page.reload();
    }
    seen.graphStages = await page.locator('svg.graph g.stage').evaluateAll(gs => gs.map(g => g.getAttribute('data-stage')));
    seen.graphEdges = await page.locator('svg.graph line.edge').evaluateAll(ls => ls.map(l => `${l.getAttribute('data-from')}>${l.getAttribute('data-to')}`));
    seen.images = await page.locator('#images li').allInnerTexts();
    seen.approvals = await page.locator('#approvals li').allInnerTexts();
    seen.traceId = await page.locator('#trace-id').innerText();
    await page.screenshot({ path: path.join(shots, 'run-graph.png'), fullPage: true });

    // Reading needs no JavaScript: the page is server-rendered.
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const noJs = await plain.newPage();
    await noJs.goto(`${reporter}/environments`);
    seen.noJsProduction = await noJs.locator(`${production} .current`).innerText();
    await plain.close();

    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await phone.goto(`${reporter}/environments`);
    seen.phoneOverflow = await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    await phone.screenshot({ path: path.join(shots, 'environments-phone.png'), fullPage: true });
    console.log(JSON.stringify(seen));
  } finally {
    await browser.close();
  }
})().catch(e => {
  console.error(String(e && e.stack || e));
  process.exit(1);
});
