/**
 * The only place a thrown value becomes an HTTP response.
 * MatrixError → its errcode/status/body; fastify's own errors (validation, body size,
 * malformed URL) → the spec's errcodes; anything else is a bug: logged with its stack and
 * answered 500 M_UNKNOWN without detail.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import {
  BadJsonError,
  InternalError,
  InvalidParamError,
  MatrixError,
  NotJsonError,
  TooLargeError,
  UnknownError,
} from "../errors/matrix-error.js";

/** Turns anything thrown into a MatrixError; `isBug` marks the ones that need a stack trace. */
export function toMatrixError(err: unknown): { error: MatrixError; isBug: boolean } {
  if (err instanceof MatrixError) return { error: err, isBug: err instanceof InternalError };
  const fe = err as Partial<FastifyError> & { validation?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[] };
  if (fe && Array.isArray(fe.validation)) {
    const first = fe.validation[0];
    const missing = first?.params?.missingProperty ?? (first?.params?.requiredProperties as string[] | undefined)?.[0];
    const where = `${first?.instancePath ?? ""}${missing ? `/${String(missing)}` : ""}` || "(root)";
    const message = `${fe.validationContext ?? "request"} ${where}: ${first?.message ?? "invalid"}`;
    return { error: fe.validationContext === "body" ? new BadJsonError(message) : new InvalidParamError(message), isBug: false };
  }
  switch (fe?.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { error: new TooLargeError("Request body is too large"), isBug: false };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { error: new NotJsonError("Content not JSON"), isBug: false };
  }
  if (typeof fe?.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    const e = new UnknownError(fe.message ?? "Bad request");
    Object.defineProperty(e, "httpStatus", { value: fe.statusCode });
    return { error: e, isBug: false };
  }
  return { error: new InternalError(err instanceof Error ? err.message : String(err)), isBug: true };
}

export function errorHandler(err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { error, isBug } = toMatrixError(err);
  if (isBug) request.log.error({ err }, "unhandled error");
  else if (error.httpStatus >= 500) request.log.warn({ errcode: error.errcode, msg: error.message }, "server error");
  void reply.code(error.httpStatus).headers(error.headers).send(error.toBody());
}
