import { eq } from 'drizzle-orm';
import type { FuzeDb } from './database.js';
import { apiKeys } from './schema/index.js';

export interface ApiKeyRow {
  id: string;
  name: string;
  secretHash: string;
  scopes: string[];
  revoked: boolean;
}

export async function insertApiKey(
  db: FuzeDb,
  key: { id: string; name: string; secretHash: string; scopes: string[] },
): Promise<void> {
  await db.insert(apiKeys).values(key);
}

export async function findApiKey(db: FuzeDb, id: string): Promise<ApiKeyRow | undefined> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id)).limit(1);
  if (!row) return undefined;
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secretHash,
    scopes: row.scopes,
    revoked: row.revokedAt !== null,
  };
}

export async function revokeApiKey(db: FuzeDb, id: string): Promise<boolean> {
  const rows = await db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, id)).returning();
  return rows.length > 0;
}
