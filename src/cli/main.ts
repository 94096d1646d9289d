#!/usr/bin/env node
/**
 * `sluice` command-line tool. Subcommands:
 *   create-user <localpart> [--password P] [--admin]   make an account (prints a password if none given)
 *   generate-config                                    print a sluice.yaml with every knob and default
 *   backup <file>                                      online, consistent copy of the SQLite database
 *   reset-sync (--all | --user @u:server [--device D]) [--reason R]
 *                                                      force clients to resync (tokens issued before now are stale)
 * Reads the same configuration as the server (SLUICE_CONFIG, SLUICE_* env).
 */
import { parseArgs } from "node:util";
import { loadConfig, ConfigError } from "../config/load.js";
import { describeConfig } from "../config/describe.js";
import { buildServices, openStorage, signingKeyPath } from "../app.js";
import { loadOrCreateSigningKey } from "../events/signing.js";
import { systemClock } from "../util/clock.js";
import { randomString } from "../util/random.js";
import { MatrixError } from "../errors/matrix-error.js";
import { databasePath } from "../config/load.js";
import { parseUserId } from "../events/ids.js";
import { backupSqlite } from "../storage/sqlite/backup.js";
import { recordSyncReset, type ResetScope } from "../sync/resets.js";

const USAGE = `usage:
  sluice create-user <localpart> [--password P] [--admin]
  sluice generate-config
  sluice backup <file>
  sluice reset-sync (--all | --user @u:server [--device D]) [--reason R]
`;

async function backup(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = loadConfig();
  const { pages } = await backupSqlite(databasePath(config), positionals[0]!);
  console.log(`backed up ${databasePath(config)} to ${positionals[0]} (${pages} pages)`);
  return 0;
}

async function resetSync(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { all: { type: "boolean", default: false }, user: { type: "string" }, device: { type: "string" }, reason: { type: "string" } },
  });
  let target: ResetScope;
  if (values.all && values.user === undefined && values.device === undefined) target = { scope: "all" };
  else if (!values.all && values.user !== undefined) {
    const userId = parseUserId(values.user);
    target = values.device !== undefined ? { scope: "device", userId, deviceId: values.device } : { scope: "user", userId };
  } else {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = loadConfig();
  const storage = openStorage(config);
  try {
    const pos = await recordSyncReset(storage, systemClock, target, values.reason);
    console.log(`resync forced for ${target.scope === "all" ? "everyone" : target.scope === "user" ? target.userId : `${target.userId} device ${target.deviceId}`}: sync tokens before position ${pos} are stale`);
    return 0;
  } finally {
    await storage.close();
  }
}

async function createUser(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { password: { type: "string", short: "p" }, admin: { type: "boolean", default: false } },
  });
  if (positionals.length !== 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = loadConfig();
  const storage = openStorage(config);
  try {
    const services = buildServices(config, storage, systemClock, await loadOrCreateSigningKey(signingKeyPath(config)));
    const password = values.password ?? randomString(12);
    const userId = await services.registration.createByAdmin(positionals[0]!, password, values.admin === true);
    console.log(`created ${userId}${values.admin ? " (admin)" : ""}`);
    if (values.password === undefined) console.log(`password: ${password}`);
    return 0;
  } finally {
    await storage.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case "create-user":
      return createUser(rest);
    case "backup":
      return backup(rest);
    case "reset-sync":
      return resetSync(rest);
    case "generate-config":
      process.stdout.write(describeConfig());
      return 0;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command: ${command}\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) console.error(err.message);
    else if (err instanceof MatrixError) console.error(`error: ${err.message}`);
    else console.error(err);
    process.exit(1);
  },
);
