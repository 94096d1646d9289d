/** The spec validator itself must be able to fail, or every "matches the spec" assertion is hollow. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { assertMatchesSpec } from "./spec-validator.js";

describe("spec validator", () => {
  it("accepts a valid whoami response", async () => {
    await assertMatchesSpec("whoami.yaml", "/account/whoami", "get", 200, { user_id: "@a:test.local", device_id: "D" });
  });
  it("rejects a whoami response without user_id", async () => {
    await assert.rejects(assertMatchesSpec("whoami.yaml", "/account/whoami", "get", 200, { device_id: "D" }));
  });
  it("rejects a login response whose user_id is not a string", async () => {
    await assert.rejects(assertMatchesSpec("login.yaml", "/login", "post", 200, { user_id: 5, access_token: "x", device_id: "D" }));
  });
});
