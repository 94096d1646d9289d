/**
 * The one error hierarchy of Sluice. Domain code throws these; only
 * http/error-handler.ts turns them into responses.
 * In:  a human message (and the extras the spec requires for that errcode).
 * Out: errcode + HTTP status + body fields, fixed per subclass.
 * Anything thrown that is not a MatrixError is a bug and becomes 500 M_UNKNOWN.
 */

export type ErrorBody = { errcode: string; error: string } & Record<string, unknown>;

export abstract class MatrixError extends Error {
  abstract readonly errcode: string;
  abstract readonly httpStatus: number;
  /** Extra fields merged into the JSON body (e.g. `retry_after_ms`, `soft_logout`). */
  readonly extras: Record<string, unknown>;
  /** Extra response headers (e.g. `Retry-After`). */
  readonly headers: Record<string, string> = {};

  constructor(message: string, extras: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.extras = extras;
  }

  toBody(): ErrorBody {
    return { ...this.extras, errcode: this.errcode, error: this.message };
  }
}

/** The body was not valid JSON at all. */
export class NotJsonError extends MatrixError {
  readonly errcode = "M_NOT_JSON";
  readonly httpStatus = 400;
}

/** Valid JSON of the wrong shape; the message names the field. */
export class BadJsonError extends MatrixError {
  readonly errcode = "M_BAD_JSON";
  readonly httpStatus = 400;
}

export class MissingParamError extends MatrixError {
  readonly errcode = "M_MISSING_PARAM";
  readonly httpStatus = 400;
}

export class InvalidParamError extends MatrixError {
  readonly errcode = "M_INVALID_PARAM";
  readonly httpStatus = 400;
}

export class TooLargeError extends MatrixError {
  readonly errcode = "M_TOO_LARGE";
  readonly httpStatus = 413;
}

export class MissingTokenError extends MatrixError {
  readonly errcode = "M_MISSING_TOKEN";
  readonly httpStatus = 401;
}

/** Unknown, logged-out or expired access token. `soft_logout` tells the client it may refresh. */
export class UnknownTokenError extends MatrixError {
  readonly errcode = "M_UNKNOWN_TOKEN";
  readonly httpStatus = 401;
  constructor(message: string, softLogout = false) {
    super(message, { soft_logout: softLogout });
  }
}

export class ForbiddenError extends MatrixError {
  readonly errcode = "M_FORBIDDEN";
  readonly httpStatus = 403;
}

export class UserDeactivatedError extends MatrixError {
  readonly errcode = "M_USER_DEACTIVATED";
  readonly httpStatus = 403;
}

export class GuestAccessForbiddenError extends MatrixError {
  readonly errcode = "M_GUEST_ACCESS_FORBIDDEN";
  readonly httpStatus = 403;
}

export class NotFoundError extends MatrixError {
  readonly errcode = "M_NOT_FOUND";
  readonly httpStatus = 404;
}

/** Unknown endpoint (404) or known endpoint with the wrong method (405), as the spec says. */
export class UnrecognizedError extends MatrixError {
  readonly errcode = "M_UNRECOGNIZED";
  readonly httpStatus: number;
  constructor(message: string, wrongMethod = false) {
    super(message);
    this.httpStatus = wrongMethod ? 405 : 404;
  }
}

export class LimitExceededError extends MatrixError {
  readonly errcode = "M_LIMIT_EXCEEDED";
  readonly httpStatus = 429;
  constructor(message: string, retryAfterMs: number) {
    super(message, { retry_after_ms: retryAfterMs });
    this.headers["Retry-After"] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  }
}

export class UserInUseError extends MatrixError {
  readonly errcode = "M_USER_IN_USE";
  readonly httpStatus = 400;
}

export class InvalidUsernameError extends MatrixError {
  readonly errcode = "M_INVALID_USERNAME";
  readonly httpStatus = 400;
}

export class WeakPasswordError extends MatrixError {
  readonly errcode = "M_WEAK_PASSWORD";
  readonly httpStatus = 400;
}

/** Generic client mistake without a more specific errcode (e.g. an unknown login type). */
export class UnknownError extends MatrixError {
  readonly errcode = "M_UNKNOWN";
  readonly httpStatus = 400;
}

/**
 * User-interactive authentication is required or incomplete: a 401 whose body is the
 * UIA state (flows, params, session, completed) plus errcode/error when a stage failed.
 */
export class UiaRequiredError extends MatrixError {
  readonly errcode: string;
  readonly httpStatus = 401;
  constructor(state: Record<string, unknown>, failure?: MatrixError) {
    super(failure?.message ?? "User-interactive authentication is required", state);
    this.errcode = failure?.errcode ?? "M_FORBIDDEN";
    this.failed = failure !== undefined;
  }
  /** A bare UIA challenge carries no errcode/error in its body; a failed stage does. */
  readonly failed: boolean;
  override toBody(): ErrorBody {
    if (this.failed) return super.toBody();
    return { ...this.extras } as ErrorBody;
  }
}

/** A bug or an infrastructure failure; the message is never sent to the client. */
export class InternalError extends MatrixError {
  readonly errcode = "M_UNKNOWN";
  readonly httpStatus = 500;
  override toBody(): ErrorBody {
    return { errcode: this.errcode, error: "Internal server error" };
  }
}

export class RoomInUseError extends MatrixError {
  readonly errcode = "M_ROOM_IN_USE";
  readonly httpStatus = 400;
}

export class UnsupportedRoomVersionError extends MatrixError {
  readonly errcode = "M_UNSUPPORTED_ROOM_VERSION";
  readonly httpStatus = 400;
}

/** The client's request conflicts with the room's state in a way not covered by M_FORBIDDEN. */
export class BadStateError extends MatrixError {
  readonly errcode = "M_BAD_STATE";
  readonly httpStatus = 400;
}

/**
 * What the client asked to create already exists. Synapse answers 409 with M_UNKNOWN (the
 * spec's example for PUT /directory/room/{roomAlias}), so the errcode stays generic.
 */
export class ConflictError extends MatrixError {
  readonly errcode = "M_UNKNOWN";
  readonly httpStatus = 409;
}

/**
 * Data the server controls that clients may not set through this endpoint (account data of
 * type m.fully_read or m.push_rules): the spec and Synapse answer 405 with M_BAD_JSON.
 */
export class ServerControlledError extends MatrixError {
  readonly errcode = "M_BAD_JSON";
  readonly httpStatus = 405;
}

/** A signature the server checks (device keys, signed one-time keys) does not verify. */
export class InvalidSignatureError extends MatrixError {
  readonly errcode = "M_INVALID_SIGNATURE";
  readonly httpStatus = 400;
}

/**
 * MSC2855's first option (`sync.staleSince: error`): the `since` token names a history this
 * database no longer has (a restore from backup, a token from another server, an operator's
 * forced resync). The client should drop its cache and sync again without `since`. The
 * MSC's proposed `M_BAD_SINCE_PARAM` under an unstable name; no released client acts on it
 * (docs/operations/backup-and-restore.md).
 */
export class BadSinceError extends MatrixError {
  readonly errcode = "ORG.MATRIX.MSC2855_BAD_SINCE_PARAM";
  readonly httpStatus = 400;
}
