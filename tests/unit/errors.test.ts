import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  BadJsonError,
  ForbiddenError,
  GuestAccessForbiddenError,
  InternalError,
  InvalidParamError,
  InvalidUsernameError,
  LimitExceededError,
  MatrixError,
  MissingParamError,
  MissingTokenError,
  NotFoundError,
  NotJsonError,
  TooLargeError,
  UiaRequiredError,
  UnknownError,
  UnknownTokenError,
  UnrecognizedError,
  UserDeactivatedError,
  UserInUseError,
  WeakPasswordError,
} from "../../src/errors/matrix-error.js";

/** Subclasses constructed from a message alone: [class, errcode, httpStatus]. */
const simple: [new (message: string) => MatrixError, string, number][] = [
  [NotJsonError, "M_NOT_JSON", 400],
  [BadJsonError, "M_BAD_JSON", 400],
  [MissingParamError, "M_MISSING_PARAM", 400],
  [InvalidParamError, "M_INVALID_PARAM", 400],
  [TooLargeError, "M_TOO_LARGE", 413],
  [MissingTokenError, "M_MISSING_TOKEN", 401],
  [ForbiddenError, "M_FORBIDDEN", 403],
  [UserDeactivatedError, "M_USER_DEACTIVATED", 403],
  [GuestAccessForbiddenError, "M_GUEST_ACCESS_FORBIDDEN", 403],
  [NotFoundError, "M_NOT_FOUND", 404],
  [UserInUseError, "M_USER_IN_USE", 400],
  [InvalidUsernameError, "M_INVALID_USERNAME", 400],
  [WeakPasswordError, "M_WEAK_PASSWORD", 400],
  [UnknownError, "M_UNKNOWN", 400],
];

describe("MatrixError subclasses", () => {
  for (const [Cls, errcode, status] of simple) {
    it(`${Cls.name}: ${errcode} ${status}`, () => {
      const e = new Cls("something went wrong");
      assert.ok(e instanceof MatrixError);
      assert.ok(e instanceof Error);
      assert.equal(e.name, Cls.name);
      assert.equal(e.message, "something went wrong");
      assert.equal(e.errcode, errcode);
      assert.equal(e.httpStatus, status);
      assert.deepEqual(e.toBody(), { errcode, error: "something went wrong" });
      assert.deepEqual(e.headers, {});
    });
  }

  it("extras are merged into the body but cannot override errcode or error", () => {
    const e = new ForbiddenError("no", { extra: 1, errcode: "M_FAKE", error: "fake" });
    assert.deepEqual(e.toBody(), { extra: 1, errcode: "M_FORBIDDEN", error: "no" });
  });

  it("UnknownTokenError: 401 with soft_logout false by default, true when asked", () => {
    const hard = new UnknownTokenError("Unknown access token");
    assert.equal(hard.errcode, "M_UNKNOWN_TOKEN");
    assert.equal(hard.httpStatus, 401);
    assert.deepEqual(hard.toBody(), { errcode: "M_UNKNOWN_TOKEN", error: "Unknown access token", soft_logout: false });
    const soft = new UnknownTokenError("Access token expired", true);
    assert.deepEqual(soft.toBody(), { errcode: "M_UNKNOWN_TOKEN", error: "Access token expired", soft_logout: true });
  });

  it("UnrecognizedError: 404 for an unknown endpoint, 405 for a wrong method", () => {
    const notFound = new UnrecognizedError("Unrecognized request");
    assert.equal(notFound.errcode, "M_UNRECOGNIZED");
    assert.equal(notFound.httpStatus, 404);
    assert.deepEqual(notFound.toBody(), { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" });
    const wrongMethod = new UnrecognizedError("Method not allowed", true);
    assert.equal(wrongMethod.errcode, "M_UNRECOGNIZED");
    assert.equal(wrongMethod.httpStatus, 405);
    assert.deepEqual(wrongMethod.toBody(), { errcode: "M_UNRECOGNIZED", error: "Method not allowed" });
  });

  it("LimitExceededError: 429 with retry_after_ms and a Retry-After header in whole seconds", () => {
    const e = new LimitExceededError("Too many requests", 2500);
    assert.equal(e.errcode, "M_LIMIT_EXCEEDED");
    assert.equal(e.httpStatus, 429);
    assert.deepEqual(e.toBody(), { errcode: "M_LIMIT_EXCEEDED", error: "Too many requests", retry_after_ms: 2500 });
    assert.deepEqual(e.headers, { "Retry-After": "3" }, "rounded up");
    assert.equal(new LimitExceededError("x", 1000).headers["Retry-After"], "1");
    assert.equal(new LimitExceededError("x", 1).headers["Retry-After"], "1", "at least one second");
    assert.equal(new LimitExceededError("x", 0).headers["Retry-After"], "1", "at least one second");
  });

  it("headers are per instance", () => {
    new LimitExceededError("x", 5000);
    assert.deepEqual(new ForbiddenError("y").headers, {});
    assert.deepEqual(new LimitExceededError("z", 1000).headers, { "Retry-After": "1" });
  });

  it("InternalError: 500 M_UNKNOWN that never leaks its message or extras", () => {
    const e = new InternalError("SQLITE_CORRUPT at /var/lib/secret.db", { stack: "secret" });
    assert.equal(e.errcode, "M_UNKNOWN");
    assert.equal(e.httpStatus, 500);
    assert.equal(e.message, "SQLITE_CORRUPT at /var/lib/secret.db", "the message is kept for logs");
    const body = e.toBody();
    assert.deepEqual(body, { errcode: "M_UNKNOWN", error: "Internal server error" });
    assert.ok(!JSON.stringify(body).includes("secret"));
  });

  describe("UiaRequiredError", () => {
    const state = { flows: [{ stages: ["m.login.password"] }], params: {}, session: "S1" };

    it("a bare challenge is a 401 whose body is the UIA state without errcode or error", () => {
      const e = new UiaRequiredError(state);
      assert.equal(e.httpStatus, 401);
      assert.equal(e.failed, false);
      const body = e.toBody();
      assert.deepEqual(body, state);
      assert.ok(!("errcode" in body));
      assert.ok(!("error" in body));
    });

    it("a failed stage adds the failure's errcode and error to the state", () => {
      const completedState = { ...state, completed: [] as string[] };
      const e = new UiaRequiredError(completedState, new ForbiddenError("Invalid password"));
      assert.equal(e.httpStatus, 401, "still 401, not the failure's status");
      assert.equal(e.failed, true);
      assert.equal(e.errcode, "M_FORBIDDEN");
      assert.equal(e.message, "Invalid password");
      assert.deepEqual(e.toBody(), { ...completedState, errcode: "M_FORBIDDEN", error: "Invalid password" });
    });

    it("the failure's own errcode is used", () => {
      const e = new UiaRequiredError(state, new UnknownError("Unknown stage"));
      assert.equal(e.httpStatus, 401);
      assert.deepEqual(e.toBody(), { ...state, errcode: "M_UNKNOWN", error: "Unknown stage" });
    });

    it("toBody does not hand out the state object itself", () => {
      const e = new UiaRequiredError(state);
      const body = e.toBody();
      body.session = "changed";
      assert.equal(e.toBody().session, "S1");
    });
  });
});
