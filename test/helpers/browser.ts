import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Browser } from 'puppeteer-core' with { 'resolution-mode': 'import' };

/**
 * A real headless Chromium for browser tests: Debian's `chromium` (CHROMIUM_PATH to use another),
 * driven by puppeteer-core, which never downloads a browser. When none is found, Debian's package
 * is installed with apt-get (as root, or through sudo), saying so, as the tools directory's other
 * tools are installed on first use; where that cannot work the test fails with how to get one.
 * Tests never skip for it.
 */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter((p): p is string => Boolean(p));
  const found = () => candidates.find((p) => fs.existsSync(p));
  if (!found() && !process.env.CHROMIUM_PATH) installDebianChromium();
  const path = found();
  if (!path) throw new Error(`no Chromium found (tried ${candidates.join(', ')}): install it with \`apt-get install -y chromium\`, or set CHROMIUM_PATH`);
  return path;
}

function installDebianChromium(): void {
  if (!fs.existsSync('/usr/bin/apt-get')) return;
  const asRoot = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  console.log('browser tests: no Chromium on this machine, installing Debian\'s chromium package with apt-get (once)');
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...asRoot, ...args];
    execFileSync(cmd!, rest, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  try {
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'chromium']);
  } catch (err) {
    console.log(`browser tests: apt-get could not install chromium: ${(err as Error).message.split('\n')[0]}`);
  }
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
