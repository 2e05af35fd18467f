import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (`.ci/run` installs it); FUZE_CHROMIUM names another. */
export const chromiumPath = process.env['FUZE_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Headless Chromium driven by playwright-core, with a fresh profile. The flags keep it off the
 * network it would otherwise call at every start (updates, sync, Google lookups), which this
 * machine's closed network refuses; --no-sandbox because CI runs as root.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `no Chromium at ${chromiumPath}: install Debian's chromium (bash .ci/run does), or set FUZE_CHROMIUM`,
    );
  }
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
