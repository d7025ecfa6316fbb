// The lab as a student sees it: JupyterLab in a real (headless) Chromium opens the student versions
// of notebooks 00 and 01, as `./lab up` does, runs every cell on the Rust kernel, and shows what a
// student should see: the exercises' first hints in red, each linked to the section it points at,
// the lesson's own check passing, the spans printed to STDOUT and the waterfall. Then JupyterLab in Brazilian Portuguese, with the language
// pack, runs the Portuguese student version of notebook 00 from its Portuguese menu item, and its
// hints and checks are in Portuguese. Screenshots are saved.
//
// Needs: .venv/ with JupyterLab and the 'rust' kernel (kernel-setup/setup.sh), Chromium at
// $CHROMIUM or /usr/bin/chromium. JupyterLab listens on loopback only, with a random token, and
// serves a copy of the notebooks, so the committed files never get outputs saved into them.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { cpSync, mkdtempSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SCREENSHOTS = process.env.SCREENSHOTS ?? join(REPO, "target", "browser-test");
const RUN_TIMEOUT_MS = 15 * 60 * 1000; // a cold first `:dep` cell compiles for minutes

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Whether nothing listens on loopback `port` (a listener of ours binds it, then lets it go). */
function isFree(port) {
  return new Promise((done) => {
    const probe = createServer();
    probe.once("error", () => done(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => done(true)));
  });
}

/** A free loopback port below 32768 (above it, TIME-WAIT sockets can hold a port), starting
 *  from one that depends on this process, never `taken`. */
async function pickPort(taken = []) {
  for (let port = 22000 + (process.pid % 4000); port < 32000; port++) {
    if (!taken.includes(port) && (await isFree(port))) return port;
  }
  throw new Error("no free loopback port below 32000");
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

/** One line per code cell of `panel`: its prompt (`[3]` ran, `[*]` running or queued, `[ ]` not
 *  run), its first source line, and the start of its last output, so that a run that stops
 *  says where and why. */
async function describeCells(panel) {
  const cells = await panel.locator(".jp-CodeCell").evaluateAll((elements) => elements.map((cell) => {
    const prompt = cell.querySelector(".jp-InputPrompt")?.textContent?.trim() ?? "?";
    const source = cell.querySelector(".jp-InputArea-editor")?.textContent?.split("\n")[0] ?? "";
    const outputs = cell.querySelectorAll(".jp-OutputArea-output");
    const last = outputs.length > 0 ? outputs[outputs.length - 1].textContent : "";
    return `${prompt.padEnd(6)} ${source.slice(0, 50).padEnd(50)} | ${last.replace(/\s+/g, " ").slice(0, 120)}`;
  }));
  return cells.join("\n");
}

/** Opens `notebook` (a path under notebooks/), runs all its cells from the Run menu's
 *  `runAllCells` item (its label in the lab's language), and waits until an output shows
 *  `lastOutput`. Returns the page's output areas. */
async function runAll(page, base, token, notebook, title, lastOutput, runAllCells = "Run All Cells") {
  await page.goto(`${base}/lab/tree/${notebook}?token=${token}`);
  const panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)");
  await panel.locator(".jp-RenderedMarkdown h1", { hasText: title }).first().waitFor({ timeout: 60_000 });
  await panel.locator(".jp-Toolbar-kernelName", { hasText: "Rust" }).first().waitFor({ timeout: 60_000 });
  // The Run menu acts on the notebook that last had the focus, which after a page load can be
  // another tab JupyterLab restored (notebook 00's, when 01 opens): a click on its title gives it
  // the focus first.
  await panel.locator(".jp-RenderedMarkdown h1", { hasText: title }).first().click();
  await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Run$/ }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: new RegExp(`^${runAllCells}$`) }).click();
  const outputs = panel.locator(".jp-OutputArea-output");
  try {
    await outputs.filter({ hasText: lastOutput }).first().waitFor({ timeout: RUN_TIMEOUT_MS });
  } catch (error) {
    throw new Error(`${notebook}: "${lastOutput}" never showed; the code cells then:\n${await describeCells(panel)}`, { cause: error });
  }
  assert.equal(
    await outputs.filter({ hasText: "panicked" }).count(), 0, `${notebook}: no cell panicked`,
  );
  return outputs;
}

/** Undoes what a test set up, last thing first, whatever fails: node's `t.after` hooks run in the
 *  order they were added and stop at the first that throws, so a work folder removed before the
 *  browser closed failed (Chromium still writes its profile) and left JupyterLab running. */
function cleanupInReverse(t) {
  const steps = [];
  t.after(async () => {
    const errors = [];
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  });
  return (step) => steps.push(step);
}

/** JupyterLab on loopback serving `root`, in `language` (the default settings `./lab up` gives
 *  it: kernel-setup/jupyterlab/<language>/), with a workspace and user settings of its own under
 *  `work` (else it reopens the tabs another run left in ~/.jupyter), stopped when the test ends. */
async function startJupyter(cleanup, work, root, language, port) {
  const token = randomBytes(16).toString("hex");
  const jupyter = spawn(
    join(REPO, ".venv", "bin", "jupyter"),
    ["lab", "--no-browser", "--ip=127.0.0.1", `--port=${port}`, "--port-retries=0",
     `--IdentityProvider.token=${token}`, `--ServerApp.root_dir=${root}`,
     `--LabApp.app_settings_dir=${join(REPO, "kernel-setup", "jupyterlab", language)}`,
     `--LabApp.workspaces_dir=${join(work, "workspaces")}`, `--LabApp.user_settings_dir=${join(work, "settings")}`,
     // CI machines run as root, which JupyterLab refuses unless told.
     ...(process.getuid?.() === 0 ? ["--allow-root"] : [])],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  cleanup(() => jupyter.kill("SIGTERM"));
  const base = `http://127.0.0.1:${port}`;
  await waitForJupyter(`${base}/api/status?token=${token}`, Date.now() + 60_000);
  return { base, token };
}

/** Headless Chromium with a fresh profile under `work`, closed when the test ends, after a last
 *  screenshot (`<name>-last.png`: what the page showed when a test failed). */
async function openBrowser(cleanup, work, name) {
  // The flags keep Chromium off the network (this machine's is closed).
  const context = await chromium.launchPersistentContext(join(work, "chromium-profile"), {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 1000 },
  });
  cleanup(() => context.close());
  mkdirSync(SCREENSHOTS, { recursive: true });
  const page = context.pages()[0] ?? (await context.newPage());
  // A click that finds nothing fails after a minute instead of waiting for ever.
  page.setDefaultTimeout(60_000);
  cleanup(() => page.screenshot({ path: join(SCREENSHOTS, `${name}-last.png`) }));
  return page;
}

/** A copy of the notebooks' `versions` folders in a work folder (the notebooks three folders below
 *  a link to tracelab, so `:dep tracelab = { path = "../../../tracelab" }` resolves), JupyterLab
 *  in `language` serving it on `port`, and Chromium opened; all undone when the test ends. */
async function openLab(t, { versions, language, port, name }) {
  const work = mkdtempSync(join(tmpdir(), `tracelab-${name}-`));
  const cleanup = cleanupInReverse(t);
  cleanup(() => rmSync(work, { recursive: true, force: true }));
  mkdirSync(join(work, "notebooks"));
  for (const version of versions) {
    cpSync(join(REPO, "notebooks", version), join(work, "notebooks", version), { recursive: true });
  }
  symlinkSync(join(REPO, "tracelab"), join(work, "tracelab"));
  const { base, token } = await startJupyter(cleanup, work, join(work, "notebooks"), language, port);
  const page = await openBrowser(cleanup, work, name);
  return { base, token, page };
}

test("JupyterLab runs the student versions of notebooks 00 and 01: hints, checks, spans and waterfall", { timeout: 2 * RUN_TIMEOUT_MS + 120_000 }, async (t) => {
  const { base, token, page } = await openLab(t, { versions: ["student", "solved"], language: "en", port: await pickPort(), name: "jupyterlab" });

  // Notebook 00, student version: every exercise's check shows its hint, in red, and the notebook
  // goes on to its own check, which passes.
  let outputs = await runAll(page, base, token, "student/en/00-rust-for-this-lab.ipynb", "Rust for this lab", "Notebook 00: Rust for this lab");
  const hints = outputs.locator("pre.tracelab-check.failed", { hasText: "Hint 1 of 3: " });
  assert.equal(await hints.count(), 5, "five exercises, each with its first hint");
  await hints.first().scrollIntoViewIfNeeded();
  assert.match(await hints.first().textContent(), /Your turn 1: workers that share a list[\s\S]*✘[\s\S]*Hint 1 of 3: start from the first ✘ above/);
  assert.equal(
    await hints.first().evaluate((element) => getComputedStyle(element).borderLeftColor), "rgb(198, 40, 40)",
    "a hint is marked in red",
  );
  assert.equal(await outputs.locator("pre.tracelab-check.passed", { hasText: "All 3 checks passed." }).count(), 1);
  // The links of later notebooks lead to headings: JupyterLab names each heading after its text.
  for (const id of ["Closures", "Move-and-clone", "Guards-and-Drop", "What-survives-between-cells"]) {
    assert.equal(await page.locator(`.jp-NotebookPanel:not(.lm-mod-hidden) [data-jupyter-id="${id}"]`).count(), 1, `a heading named ${id}`);
  }
  await page.screenshot({ path: join(SCREENSHOTS, "jupyterlab-00-student.png") });
  // The first hint links to the section that explains the idea: clicking it shows that heading.
  const hintLink = hints.first().locator('a[href*="#Arc-and-Mutex"]');
  await hintLink.scrollIntoViewIfNeeded();
  await hintLink.click();
  await page.waitForFunction(() => {
    const target = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) h2[data-jupyter-id="Arc-and-Mutex"]');
    const box = target?.getBoundingClientRect();
    return box && box.top >= 0 && box.bottom <= window.innerHeight;
  }, null, { timeout: 30_000 });

  // Notebook 01, student version: the spans on STDOUT, the waterfall, the lesson's check, and
  // the exercises' hints.
  outputs = await runAll(page, base, token, "student/en/01-nested-spans-to-stdout.ipynb", "Nested spans, printed to STDOUT", "Your turn 3: read a trace from its ids");
  assert.ok((await outputs.filter({ hasText: "SRE and DevOps work together!!!" }).count()) >= 1);
  assert.ok((await outputs.filter({ hasText: "TraceId" }).count()) >= 1, "the spans printed to STDOUT are shown");
  assert.equal(await outputs.locator("pre.tracelab-check.passed", { hasText: "Exercise 01: nested spans" }).count(), 1);
  assert.equal(await outputs.locator("pre.tracelab-check.failed", { hasText: "Hint 1 of 3: " }).count(), 3);
  const waterfall = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) svg.tracelab-waterfall").first();
  await waterfall.scrollIntoViewIfNeeded();
  assert.ok(await waterfall.isVisible(), "the waterfall is drawn");
  assert.equal(await waterfall.locator("g.span").count(), 2, "two span rows");
  await waterfall.screenshot({ path: join(SCREENSHOTS, "jupyterlab-01-waterfall.png") });
  await page.screenshot({ path: join(SCREENSHOTS, "jupyterlab-01-student.png") });

  // A link to notebook 00's section on closures opens it there (JupyterLab writes the link as
  // .../files/student/en/00-rust-for-this-lab.ipynb?_xsrf=...#Closures and opens it itself).
  const link = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) a[href*="/00-rust-for-this-lab.ipynb"][href$="#Closures"]').first();
  await link.scrollIntoViewIfNeeded();
  await link.click();
  const heading = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) h2[data-jupyter-id="Closures"]');
  await heading.waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => {
    const target = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) h2[data-jupyter-id="Closures"]');
    const box = target?.getBoundingClientRect();
    return box && box.top >= 0 && box.bottom <= window.innerHeight;
  }, null, { timeout: 30_000 });
  assert.equal(await page.getByText("Jupyter news").count(), 0, "no toast asks to fetch Jupyter's news");
  console.log(`screenshots: ${SCREENSHOTS}`);
});

test("JupyterLab in Brazilian Portuguese, as LAB_LANG=pt-BR ./lab up opens it: the language pack's menus, and the Portuguese student version of notebook 00 with its hints and checks", { timeout: RUN_TIMEOUT_MS + 120_000 }, async (t) => {
  const { base, token, page } = await openLab(t, { versions: ["student"], language: "pt-BR", port: await pickPort(), name: "jupyterlab-pt-BR" });

  // Run all from the Portuguese menu item: tracelab's checks speak Portuguese (the lesson's first
  // cell sets it), each exercise's hint in red, and the lesson's own check passes.
  const outputs = await runAll(
    page, base, token, "student/pt-BR/00-rust-for-this-lab.ipynb", "Rust para este lab", "Notebook 00: Rust para este lab",
    "Executar todas as células",
  );
  const hints = outputs.locator("pre.tracelab-check.failed", { hasText: "Dica 1 de 3: " });
  assert.equal(await hints.count(), 5, "five exercises, each with its first hint in Portuguese");
  await hints.first().scrollIntoViewIfNeeded();
  assert.match(await hints.first().textContent(), /Sua vez 1: workers que dividem uma lista[\s\S]*Dica 1 de 3: comece pelo primeiro ✘ acima/);
  assert.equal(await outputs.locator("pre.tracelab-check", { hasText: "Hint" }).count(), 0, "no English hint");
  const passed = outputs.locator("pre.tracelab-check.passed", { hasText: "As 3 verificações passaram." });
  assert.equal(await passed.count(), 1);
  await passed.scrollIntoViewIfNeeded();
  assert.equal(await page.getByText("Jupyter news").count(), 0, "no toast asks, in English, to fetch Jupyter's news");
  await page.screenshot({ path: join(SCREENSHOTS, "jupyterlab-pt-BR-00-student.png") });

  // The pack (4.5.post3) translates the menus' items, not the menu bar's own labels.
  await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Run$/ }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: /^Renderizar todas as células de Markdown$/ }).waitFor({ timeout: 30_000 });
  assert.equal(
    await page.locator(".lm-Menu-itemLabel", { hasText: /^Run All Cells$/ }).count(), 0, "no English Run All Cells",
  );
  await page.screenshot({ path: join(SCREENSHOTS, "jupyterlab-pt-BR-menu.png") });
});
