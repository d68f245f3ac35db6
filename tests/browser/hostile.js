// Opens a run page whose step output, reason and artifact names are hostile, in Debian's chromium (headless), and
// reports what ran: dialogs, page errors, Content-Security-Policy violations, whether a hostile script set its
// marker, the output as the page shows it, and whether the live update still replaced the run (no reload) once the
// test finishes the run after READY_FILE appears.
// Usage: node hostile.js RUN_PAGE_URL READY_FILE SCREENSHOTS_DIR
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const path = require('path');

const [url, readyFile, shots] = process.argv.slice(2);

(async () => {
  fs.mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const seen = { dialogs: [], errors: [] };
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on('dialog', d => { seen.dialogs.push(d.message()); d.dismiss(); });
    page.on('pageerror', e => seen.errors.push(String(e)));
    await page.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', e => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    await page.goto(url);
    await page.evaluate(() => { window.__samePage = 'yes'; });
    seen.stylesApplied = await page.evaluate(() => getComputedStyle(document.querySelector('nav')).backgroundColor);
    fs.writeFileSync(readyFile, 'ready');
    await page.waitForFunction(() => {
      const badge = document.querySelector('#run .badge');
      return badge && badge.textContent !== 'running';
    }, null, { timeout: 120_000, polling: 250 });
    seen.state = await page.locator('#run .badge').first().innerText();
    seen.samePage = await page.evaluate(() => window.__samePage || null);
    seen.pwned = await page.evaluate(() => window.__pwned || null);
    seen.violations = await page.evaluate(() => window.__violations);
    seen.logs = await page.locator('pre.log').evaluateAll(pres => pres.map(p => p.textContent));
    seen.elementsInLogs = await page.locator('pre.log *').count();
    seen.links = await page.locator('a').evaluateAll(as => as.map(a => a.getAttribute('href')));
    await page.screenshot({ path: path.join(shots, 'hostile-run.png'), fullPage: true });
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(seen));
})().catch(e => { console.error(e && e.stack || String(e)); process.exit(1); });
