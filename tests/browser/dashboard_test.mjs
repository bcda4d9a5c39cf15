// Drives the oscrig dashboard in headless Chromium against a running `oscrig serve` with four
// simulated cameras.
//
// Usage:
//   node dashboard_test.mjs --url http://127.0.0.1:8360/ --screenshot out.png
//        [--stop-url http://127.0.0.1:PORT/sim/stop --stop-camera NAME] [--token TOKEN]
//        [--cameras 4] [--chromium /usr/bin/chromium]
//
// Steps: the page must show one tile per camera, all ready. A click on "Take photo" must make
// a shot with every camera appear in the history. Then one camera is stopped, and its tile
// must turn unreachable within 5 s. Last, a full-page screenshot is saved. With --stop-url the script stops the camera by
// posting to that simulator URL. Without it the script prints "stop-camera-now" and waits for
// a line on standard input, which the caller sends after stopping the camera itself.
// Exits 0 when every step passed, 1 otherwise, 64 for a bad command line.

import { chromium } from "playwright-core";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";

const unreachableTimeoutMs = 5000;
const pageTimeoutMs = 20000;
const shotTimeoutMs = 60000;

function usage(message) {
  console.error("dashboard_test: " + message);
  console.error("usage: node dashboard_test.mjs --url URL --screenshot FILE " +
                "[--stop-url URL --stop-camera NAME] [--token TOKEN] [--cameras N]");
  process.exit(64);
}

function readOptions() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        url: { type: "string" },
        screenshot: { type: "string" },
        "stop-url": { type: "string" },
        "stop-camera": { type: "string" },
        token: { type: "string" },
        cameras: { type: "string", default: "4" },
        chromium: { type: "string", default: "/usr/bin/chromium" },
      },
    }).values;
  } catch (error) {
    usage(error.message);
  }
  if (!parsed.url) {
    usage("missing --url");
  }
  if (!parsed.screenshot) {
    usage("missing --screenshot");
  }
  const cameras = Number.parseInt(parsed.cameras, 10);
  if (!(cameras > 0)) {
    usage("--cameras must be a positive integer, got " + parsed.cameras);
  }
  return { ...parsed, cameras };
}

function step(message) {
  console.log("dashboard_test: " + message);
}

function waitForLine() {
  return new Promise((resolve) => {
    const input = createInterface({ input: process.stdin });
    input.once("line", () => {
      input.close();
      resolve();
    });
  });
}

async function stopCamera(options) {
  if (options["stop-url"]) {
    const response = await fetch(options["stop-url"], { method: "POST" });
    if (!response.ok) {
      throw new Error("POST " + options["stop-url"] + " failed with HTTP " + response.status);
    }
    return;
  }
  console.log("stop-camera-now");
  await waitForLine();
}

async function run(page, options) {
  await page.goto(options.url, { waitUntil: "load", timeout: pageTimeoutMs });

  step("waiting for " + options.cameras + " camera tiles");
  await page.waitForFunction(
      (count) => document.querySelectorAll("#cameras .tile").length === count,
      options.cameras, { timeout: pageTimeoutMs });
  await page.waitForFunction(() => [...document.querySelectorAll("#cameras .tile")]
                                       .every((tile) => tile.dataset.state === "ready"),
                             null, { timeout: pageTimeoutMs });

  if (options.token) {
    await page.fill("#token", options.token);
  }
  const shotsBefore = await page.locator("#shots .shot").count();
  step("taking a photo");
  await page.click("#take-photo");
  await page.waitForFunction(
      ({ before, cameras }) => {
        const shots = document.querySelectorAll("#shots .shot");
        return shots.length > before &&
               shots[0].querySelectorAll(".shot-camera").length === cameras;
      },
      { before: shotsBefore, cameras: options.cameras }, { timeout: shotTimeoutMs });
  const failed = await page.locator("#control-status.failed").count();
  if (failed) {
    throw new Error("the page reported: " + await page.textContent("#control-status"));
  }
  step("shot " + await page.getAttribute("#shots .shot", "data-shot-id") + " is in the history");

  const name = options["stop-camera"] ||
               await page.getAttribute("#cameras .tile:last-child", "data-camera");
  step("stopping camera " + name);
  await stopCamera(options);
  const stoppedAt = Date.now();
  await page.waitForFunction(
      (camera) => [...document.querySelectorAll("#cameras .tile")]
                      .some((tile) => tile.dataset.camera === camera &&
                                      tile.dataset.state === "unreachable"),
      name, { timeout: unreachableTimeoutMs });
  step("tile " + name + " turned unreachable after " + (Date.now() - stoppedAt) + " ms");

  await page.screenshot({ path: options.screenshot, fullPage: true });
  step("screenshot saved to " + options.screenshot);
}

async function main() {
  const options = readOptions();
  const userDataDir = await mkdtemp(join(tmpdir(), "oscrig-dashboard-chromium-"));
  let context;
  try {
    // Playwright passes --user-data-dir itself for a persistent context.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: options.chromium,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const page = context.pages()[0] || await context.newPage();
    const pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await run(page, options);
    if (pageErrors.length) {
      throw new Error("script errors in the page: " + pageErrors.join("; "));
    }
    step("passed");
    return 0;
  } catch (error) {
    console.error("dashboard_test: failed: " + error.message);
    return 1;
  } finally {
    if (context) {
      await context.close();
    }
    await rm(userDataDir, { recursive: true, force: true });
  }
}

process.exit(await main());
