/** One assertion for Matrix error answers, shared by the integration tests. */
import assert from "node:assert/strict";
import type { ApiResponse } from "./harness.js";
import { assertMatchesSpec } from "./spec-validator.js";

/** Where the spec describes an endpoint's responses: its OpenAPI file, path and method. */
export interface Spec {
  file: string;
  path: string;
  method: string;
}

/** Asserts status and errcode, that `error` is a string, and (when given) the spec's error schema. */
export async function expectError(res: ApiResponse, status: number, errcode: string, spec?: Spec): Promise<void> {
  assert.equal(res.status, status, `expected ${status} ${errcode}, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.errcode, errcode, JSON.stringify(res.body));
  assert.equal(typeof res.body.error, "string");
  if (spec) await assertMatchesSpec(spec.file, spec.path, spec.method, status, res.body);
}
