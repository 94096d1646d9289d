/** Runs the push storage contract against SQLite (":memory:", a fresh database per test). */
import { openSqliteStorage } from "../../src/storage/sqlite/index.js";
import { pushContract } from "./push.contract.js";

pushContract(async () => openSqliteStorage({ path: ":memory:" }));
