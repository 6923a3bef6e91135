import fs from 'node:fs';
import type { Browser } from 'puppeteer-core' with { 'resolution-mode': 'import' };

/**
 * A real headless Chromium for browser tests: Debian's `chromium` (CHROMIUM_PATH to use another),
 * driven by puppeteer-core, which never downloads a browser. A missing browser fails the test
 * with how to get it; tests never skip for it.
 */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) throw new Error(`no Chromium found (tried ${candidates.join(', ')}): install it with \`apt-get install -y chromium\` (.ci/run does), or set CHROMIUM_PATH`);
  return found;
}

export async function launchBrowser(): Promise<Browser> {
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // --no-sandbox: CI runs as root, where Chromium's own sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
  });
}
