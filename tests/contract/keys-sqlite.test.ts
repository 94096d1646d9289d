/** Runs the KeyStore contract against the SQLite backend (in memory). */
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { keysContract } from "./keys.contract.js";

keysContract(() => Promise.resolve(openSqliteStorage({ path: ":memory:" })));
