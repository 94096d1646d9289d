/**
 * Online, consistent backup of the SQLite database (SQLite's backup API through
 * better-sqlite3) while a server may be running and writing: the copy is one consistent
 * snapshot. The high-water mark file (`<db>.hwm`) is deliberately NOT part of a backup: after
 * a restore it still records what clients had been told, so the server detects the restore.
 */
import BetterSqlite3 from "better-sqlite3";
import { existsSync } from "node:fs";

export async function backupSqlite(databasePath: string, destination: string): Promise<{ pages: number }> {
  if (!existsSync(databasePath)) throw new Error(`no database at ${databasePath}`);
  if (existsSync(destination)) throw new Error(`refusing to overwrite ${destination}`);
  const db = new BetterSqlite3(databasePath, { readonly: true, fileMustExist: true });
  try {
    const result = await db.backup(destination);
    return { pages: result.totalPages };
  } finally {
    db.close();
  }
}
