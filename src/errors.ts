// Errors that carry their gRPC status code from the place that knows it. The server's
// wrapper maps anything else through toServiceError (one mapping for the whole server).
import { status as Code, Metadata, type ServiceError } from "@grpc/grpc-js";

export { Code };

export class CriError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "CriError";
  }
}

export const invalidArgument = (msg: string) => new CriError(Code.INVALID_ARGUMENT, msg);
export const notFound = (msg: string) => new CriError(Code.NOT_FOUND, msg);
export const alreadyExists = (msg: string) => new CriError(Code.ALREADY_EXISTS, msg);
export const failedPrecondition = (msg: string) => new CriError(Code.FAILED_PRECONDITION, msg);
export const unimplemented = (msg: string) => new CriError(Code.UNIMPLEMENTED, msg);
export const unavailable = (msg: string) => new CriError(Code.UNAVAILABLE, msg);
export const deadlineExceeded = (msg: string) => new CriError(Code.DEADLINE_EXCEEDED, msg);
export const internal = (msg: string, cause?: unknown) => new CriError(Code.INTERNAL, msg, { cause });

function isServiceError(e: unknown): e is ServiceError {
  return typeof e === "object" && e !== null && typeof (e as ServiceError).code === "number" && "details" in e;
}

/** The gRPC code an error carries (ours, or one containerd returned), else UNKNOWN. */
export function codeOf(e: unknown): Code {
  if (e instanceof CriError) return e.code;
  if (isServiceError(e)) return e.code;
  return Code.UNKNOWN;
}

export const isNotFound = (e: unknown) => codeOf(e) === Code.NOT_FOUND;
export const isAlreadyExists = (e: unknown) => codeOf(e) === Code.ALREADY_EXISTS;

/** Message of any error, using the gRPC details (not grpc-js's "5 NOT_FOUND: " prefix). */
export function messageOf(e: unknown): string {
  if (isServiceError(e)) return e.details || e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * Adds context to an error while keeping its code, as containerd's CRI does with
 * fmt.Errorf("...: %w", err): "failed to delete container x: not found".
 */
export function wrap(e: unknown, context: string): CriError {
  return new CriError(codeOf(e), `${context}: ${messageOf(e)}`, { cause: e });
}

export function toServiceError(e: unknown): Partial<ServiceError> {
  return { code: codeOf(e), details: messageOf(e), metadata: new Metadata() };
}
