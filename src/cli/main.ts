#!/usr/bin/env node
/**
 * `sluice` command-line tool. Subcommands:
 *   create-user <localpart> [--password P] [--admin]   make an account (prints a password if none given)
 *   generate-config                                    print a sluice.yaml with every knob and default
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

const USAGE = `usage:
  sluice create-user <localpart> [--password P] [--admin]
  sluice generate-config
`;

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
