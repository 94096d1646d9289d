/**
 * Process entry for `npm start`: load the configuration, build the app, listen, and stop
 * gracefully on SIGTERM/SIGINT (parked long-polls are answered, the database is closed).
 */
import { loadConfig, ConfigError } from "./config/load.js";
import { createApp } from "./app.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  const app = await createApp(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      app.logger.error("graceful shutdown timed out; exiting");
      process.exit(1);
    }, config.shutdown.graceMs + 1000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err }, "error during shutdown");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  await app.listen();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
