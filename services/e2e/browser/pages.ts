// What every page of the web app's browser tests gets: no error in the
// browser's console (every page of the browser launchBrowser makes, checked
// after each test), the checks (inputs labelled, WCAG AA contrast, nothing
// wider than a phone, navigation and actions in reach at both widths) and, when
// POOL_SCREENSHOTS is set, its photographs at desktop and phone width in
// e2e/screenshots/ (82 full-page PNGs a run: worth their CPU when someone will
// look at them, not on every run of npm test).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterEach, expect } from "vitest";

export const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "screenshots");
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };
const PHOTOGRAPH = Boolean(process.env.POOL_SCREENSHOTS);

/**
 * The browser a test file drives: $CHROMIUM (scripts/ensure-chromium.sh sets it), else Debian's headless shell, else
 * its full Chromium. The shell is Chromium's engine without the browser's own windows and pages, about 40% less
 * CPU a file (docs/testing.md).
 */
export async function launchBrowser(): Promise<Browser> {
  const path =
    process.env.CHROMIUM ??
    ["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"].find(existsSync) ??
    "/usr/bin/chromium-headless-shell";
  if (!existsSync(path))
    throw new Error(`no browser at ${path}: run the tests with npm test (it installs one as root) or set CHROMIUM`);
  const browser = await chromium.launch({
    executablePath: path,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  // Every context, and so every page (browser.newPage makes a context too), is watched from its start: a test
  // cannot open a page that escapes the check.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => watchConsole(await newContext(options));
  return browser;
}

/** What the pages logged as errors, or threw uncaught, since the last test ended. */
const consoleErrors: string[] = [];
/** The errors the running test provokes on purpose (expectConsoleErrors), and those its file lets pass (allowConsoleErrors). */
const provoked: RegExp[] = [];
const allowed: RegExp[] = [];

/**
 * Records what a page of the app logs as an error or throws uncaught. A page
 * not yet at the app (about:blank, where a test's init script finds no
 * localStorage) runs none of the app's code, and is not counted.
 */
function watchConsole(context: BrowserContext): BrowserContext {
  const ofApp = (url: string | undefined) => url?.startsWith("http") === true;
  context.on("console", (m) => {
    const url = m.page()?.url();
    if (m.type() === "error" && ofApp(url)) consoleErrors.push(`${url}: ${m.text()} (${m.location().url})`);
  });
  context.on("weberror", (e) => {
    const url = e.page()?.url();
    if (ofApp(url)) consoleErrors.push(`${url}: uncaught ${e.error().message}`);
  });
  return context;
}

/**
 * The console errors the running test provokes on purpose, each matched by a
 * pattern: a refusal the page shows (Chromium logs every answer of 400 and
 * up as "Failed to load resource"). Each must come, and no other may.
 */
export function expectConsoleErrors(...which: RegExp[]): void {
  provoked.push(...which);
}

/**
 * Console errors the file's tests let pass when they come, from then on: a
 * known fault of a page that is not the file's to fix, named where it is
 * allowed, until it is fixed. Never for what a test provokes
 * (expectConsoleErrors).
 */
export function allowConsoleErrors(...which: RegExp[]): void {
  allowed.push(...which);
}

/** A refused call to `method` (the service's method name, "Claim"), as Chromium logs it, with its HTTP status. */
export const refused = (method: string, status: number): RegExp =>
  new RegExp(`status of ${status} .*/${method}(\\?.*)?\\)$`);

// Registered on the file of every test that imports this module: a console error fails the test it came in.
afterEach(() => {
  const errors = consoleErrors.splice(0);
  const expected = provoked.splice(0);
  expect(
    errors.filter((e) => !expected.some((p) => p.test(e)) && !allowed.some((p) => p.test(e))),
    "errors in the browser's console",
  ).toEqual([]);
  expect(
    expected.filter((p) => !errors.some((e) => p.test(e))),
    "errors the test provoked that never came",
  ).toEqual([]);
});

/** expect.poll with a timeout made for a pool at work (the default is one second). */
export const poll = <T>(read: () => Promise<T> | T, timeout = 15_000) => expect.poll(read, { timeout });

/**
 * The checks every page gets, then its photographs (POOL_SCREENSHOTS): inputs
 * all labelled, text at WCAG AA contrast, at phone width nothing wider than
 * the screen, and at both widths its navigation and actions in reach
 * (outOfReach).
 */
export async function shoot(page: Page, name: string): Promise<void> {
  await page.waitForLoadState("networkidle");
  await poll(() => page.locator(".loading").count()).toBe(0);
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")]
      .filter((e) => (e as HTMLInputElement).labels?.length === 0 && !e.getAttribute("aria-label"))
      .map((e) => e.outerHTML.slice(0, 80)),
  );
  expect(unlabelled, `${name}: inputs without a label`).toEqual([]);
  expect(await lowContrast(page), `${name}: text below 4.5:1 (3:1 when large)`).toEqual([]);
  expect(await outOfReach(page), `${name}: at ${DESKTOP.width} px`).toEqual([]);
  if (PHOTOGRAPH) await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  try {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name}: wider than a phone by ${overflow} px`).toBeLessThanOrEqual(0);
    expect(await outOfReach(page), `${name}: at ${PHONE.width} px`).toEqual([]);
    if (PHOTOGRAPH) await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
  } finally {
    await page.setViewportSize(DESKTOP);
  }
}

/**
 * What a person cannot reach without scrolling sideways: the body wider than
 * its window, and each link of the page's navigation and actions (the app's
 * and a page's navigation, a page's actions, a row's links) hidden or not
 * wholly inside the window, as one in a table that scrolls in its own box is.
 * What it cannot see: a link outside those areas, and one covered by another
 * element.
 */
export function outOfReach(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const body = document.body;
    if (body.scrollWidth > body.clientWidth)
      out.push(`the body scrolls sideways: ${body.scrollWidth} > ${body.clientWidth} px`);
    for (const a of document.querySelectorAll("nav a, .actions a, .actions button, .links a")) {
      if (a.closest(".skip")) continue;
      const r = a.getBoundingClientRect();
      const name = `${a.tagName.toLowerCase()} "${(a.getAttribute("aria-label") ?? a.textContent ?? "").trim().slice(0, 40)}"`;
      if (r.width === 0 || r.height === 0) out.push(`${name} hidden`);
      else if (r.left < 0 || r.right > document.documentElement.clientWidth + 0.5)
        out.push(`${name} at ${Math.round(r.left)} to ${Math.round(r.right)} px, outside the window`);
    }
    return out;
  });
}

/** Elements with text of their own whose colour is below WCAG AA against the background behind them. */
function lowContrast(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = (c: string) => {
      const [r, g, b] = rgb(c).map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const background = (el: Element | null): string => {
      for (let e = el; e; e = e.parentElement) {
        const c = getComputedStyle(e).backgroundColor;
        const [, , , a = 1] = rgb(c);
        if (a > 0.9) return c;
      }
      return "rgb(255, 255, 255)";
    };
    const bad: string[] = [];
    for (const el of document.querySelectorAll("body *")) {
      const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim());
      if (!own || !(el as HTMLElement).offsetParent || (el as HTMLButtonElement).disabled || el.closest(".skip"))
        continue;
      const style = getComputedStyle(el);
      const [fg, bg] = [luminance(style.color), luminance(background(el))];
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5))
        bad.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`);
    }
    return bad;
  });
}
