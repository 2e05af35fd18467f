import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where signing secrets (`secretRef` of http targets) come from. */
export interface SecretStore {
  /** The secret's value, or undefined when it is nowhere to be found. */
  get(name: string): Promise<string | undefined>;
  /** Where it looks, for error messages. */
  describe(name: string): string;
}

/** `billing-signing-key` → `FUZE_SECRET_BILLING_SIGNING_KEY`. */
export function secretVariable(name: string): string {
  return `FUZE_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

const fileCacheMs = 10_000;

/**
 * Secrets from the environment first (`FUZE_SECRET_<NAME>`), then from a file named like the
 * secret in `FUZE_SECRETS_DIR` (a mounted Kubernetes/Docker secret). Files are re-read at most
 * every 10 s, so a rotated or newly added file is picked up without a restart.
 */
export function environmentSecretStore(env: Readonly<Record<string, string | undefined>>): SecretStore {
  const dir = env['FUZE_SECRETS_DIR']?.trim() || undefined;
  const cache = new Map<string, { value: string | undefined; readAt: number }>();
  const fromFile = async (name: string): Promise<string | undefined> => {
    if (!dir || !/^[A-Za-z0-9._-]+$/.test(name) || name.startsWith('.')) return undefined;
    const cached = cache.get(name);
    if (cached && Date.now() - cached.readAt < fileCacheMs) return cached.value;
    const value = await readFile(join(dir, name), 'utf8').then(
      (text) => text.replace(/\r?\n$/, ''),
      () => undefined,
    );
    cache.set(name, { value, readAt: Date.now() });
    return value;
  };
  return {
    async get(name) {
      const fromEnv = env[secretVariable(name)];
      if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
      return fromFile(name);
    },
    describe(name) {
      return dir
        ? `${secretVariable(name)} and ${join(dir, name)}`
        : `${secretVariable(name)}; FUZE_SECRETS_DIR is not set`;
    },
  };
}
