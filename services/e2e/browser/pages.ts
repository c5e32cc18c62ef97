// What every page of the web app's browser tests gets: the checks (inputs
// labelled, WCAG AA contrast, nothing wider than a phone) and, when
// POOL_SCREENSHOTS is set, its photographs at desktop and phone width in
// e2e/screenshots/ (82 full-page PNGs a run: worth their CPU when someone will
// look at them, not on every run of npm test).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";

export const SHOTS = join(dirname(fileURLToPath(import.meta.url)), "screenshots");
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };
const PHOTOGRAPH = Boolean(process.env.POOL_SCREENSHOTS);

/**
 * The browser a test file drives: $CHROMIUM (scripts/ensure-chromium.sh sets it), else Debian's headless shell, else
 * its full Chromium. The shell is Chromium's engine without the browser's own windows and pages, about 40% less
 * CPU a file (docs/testing.md).
 */
export function launchBrowser(): Promise<Browser> {
  const path =
    process.env.CHROMIUM ??
    ["/usr/bin/chromium-headless-shell", "/usr/bin/chromium"].find(existsSync) ??
    "/usr/bin/chromium-headless-shell";
  if (!existsSync(path))
    throw new Error(`no browser at ${path}: run the tests with npm test (it installs one as root) or set CHROMIUM`);
  return chromium.launch({
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
}

/** expect.poll with a timeout made for a pool at work (the default is one second). */
export const poll = <T>(read: () => Promise<T> | T, timeout = 15_000) => expect.poll(read, { timeout });

/**
 * The checks every page gets, then its photographs (POOL_SCREENSHOTS): inputs
 * all labelled, text at WCAG AA contrast, and at phone width nothing wider
 * than the screen.
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
  if (PHOTOGRAPH) await page.screenshot({ path: join(SHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  try {
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name}: wider than a phone by ${overflow} px`).toBeLessThanOrEqual(0);
    if (PHOTOGRAPH) await page.screenshot({ path: join(SHOTS, `${name}-phone.png`), fullPage: true });
  } finally {
    await page.setViewportSize(DESKTOP);
  }
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
