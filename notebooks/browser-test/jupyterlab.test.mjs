// The lab as a student sees it: JupyterLab in a real (headless) Chromium opens notebook 01, runs
// every cell on the Rust kernel, and shows the spans and the waterfall. A screenshot is saved.
//
// Needs: .venv/ with JupyterLab and the 'rust' kernel (kernel-setup/setup.sh), Chromium at
// $CHROMIUM or /usr/bin/chromium. JupyterLab listens on loopback only, with a random token, and
// serves a copy of the notebooks, so the committed files never get outputs saved into them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const NOTEBOOK = "01-nested-spans-to-stdout.ipynb";
const SCREENSHOT = process.env.SCREENSHOT ?? join(REPO, "target", "browser-test", "jupyterlab-01.png");
const RUN_TIMEOUT_MS = 15 * 60 * 1000; // a cold first `:dep` cell compiles for minutes

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** A loopback port below 32768 (above it, TIME-WAIT sockets can hold a port: see FACTS.md). */
function pickPort() {
  return 22000 + (process.pid % 4000);
}

async function waitForJupyter(url, deadline) {
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`JupyterLab did not answer ${url} in time`);
}

test("JupyterLab runs notebook 01 on the Rust kernel and shows spans and waterfall", { timeout: RUN_TIMEOUT_MS + 120_000 }, async (t) => {
  // A copy of the notebook beside a link to tracelab, so `:dep tracelab = { path = "../tracelab" }` resolves.
  const work = mkdtempSync(join(tmpdir(), "tracelab-browser-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  mkdirSync(join(work, "notebooks"));
  cpSync(join(REPO, "notebooks", NOTEBOOK), join(work, "notebooks", NOTEBOOK));
  symlinkSync(join(REPO, "tracelab"), join(work, "tracelab"));

  const port = pickPort();
  const token = randomBytes(16).toString("hex");
  const jupyter = spawn(
    join(REPO, ".venv", "bin", "jupyter"),
    ["lab", "--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0",
     `--IdentityProvider.token=${token}`, `--ServerApp.root_dir=${join(work, "notebooks")}`,
     // CI machines run as root, which JupyterLab refuses unless told.
     ...(process.getuid?.() === 0 ? ["--allow-root"] : [])],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  t.after(() => jupyter.kill("SIGTERM"));
  await waitForJupyter(`http://127.0.0.1:${port}/api/status?token=${token}`, Date.now() + 60_000);

  // A fresh profile each run; the flags keep Chromium off the network (this machine's is closed).
  const context = await chromium.launchPersistentContext(join(work, "chromium-profile"), {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 1000 },
  });
  t.after(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`http://127.0.0.1:${port}/lab/tree/${NOTEBOOK}?token=${token}`);

  // The notebook is open and its kernel is the Rust one.
  await page.locator(".jp-Notebook").first().waitFor({ timeout: 60_000 });
  await page.locator(".jp-RenderedMarkdown h1", { hasText: "Nested spans, printed to STDOUT" }).first().waitFor({ timeout: 60_000 });
  await page.locator(".jp-Toolbar-kernelName", { hasText: "Rust" }).first().waitFor({ timeout: 60_000 });

  // Run > Run All Cells, as a student would.
  await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Run$/ }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: /^Run All Cells$/ }).click();

  // The check cell's verdict appears once every cell has run.
  const outputs = page.locator(".jp-OutputArea-output");
  const verdict = outputs.filter({ hasText: "All 6 checks passed." });
  await verdict.first().waitFor({ timeout: RUN_TIMEOUT_MS });

  // The STDOUT exporter's output and the waterfall are on screen.
  assert.ok((await outputs.filter({ hasText: "SRE and DevOps work together!!!" }).count()) >= 1);
  const stdoutSpans = outputs.filter({ hasText: "TraceId" });
  assert.ok((await stdoutSpans.count()) >= 1, "the spans printed to STDOUT are shown");
  const waterfall = page.locator("svg.tracelab-waterfall");
  await waterfall.scrollIntoViewIfNeeded();
  assert.ok(await waterfall.isVisible(), "the waterfall is drawn");
  assert.equal(await waterfall.locator("g.span").count(), 2, "two span rows");
  assert.equal(await page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']", { hasText: "panicked" }).count(), 0);

  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await waterfall.screenshot({ path: SCREENSHOT.replace(/\.png$/, "-waterfall.png") });
  await page.screenshot({ path: SCREENSHOT, fullPage: false });
  console.log(`screenshot: ${SCREENSHOT}`);
});
