/**
 * The one error type that crosses the wire. Every failure sbx reports is an SbxError with a
 * code from a closed set; the daemon maps the code to an HTTP status in one table (HTTP_STATUS)
 * and the client rebuilds the same error from the body (fromBody). Branch on `code`, never on
 * the message text. Messages read "doing what: cause" and name the object.
 */
export type ErrorCode =
  | 'invalid_argument'    // the request is malformed (bad flag, bad reference, bad body)
  | 'not_found'           // the named object does not exist
  | 'already_exists'      // a name/tag is taken
  | 'failed_precondition' // the object is in a state that forbids the operation (image in use, container running)
  | 'conflict'            // a concurrent change won the race
  | 'digest_mismatch'     // bytes do not hash to the digest (or size) they claim
  | 'unauthorized'        // a registry refused our credentials
  | 'unavailable'         // a peer (registry, kernel feature) cannot be reached or used right now
  | 'not_implemented'     // the request is understood but sbx does not do it
  | 'cannot_execute'      // the container command exists but cannot be run (exit 126)
  | 'command_not_found'   // the container command does not exist (exit 127)
  | 'cancelled'           // the caller went away or interrupted the operation
  | 'internal';           // a bug; the message is hidden from clients

export const ERROR_CODES: readonly ErrorCode[] = [
  'invalid_argument', 'not_found', 'already_exists', 'failed_precondition', 'conflict',
  'digest_mismatch', 'unauthorized', 'unavailable', 'not_implemented', 'cannot_execute',
  'command_not_found', 'cancelled', 'internal',
];

export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_argument: 400,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 412,
  conflict: 409,
  digest_mismatch: 422,
  unauthorized: 401,
  unavailable: 503,
  not_implemented: 501,
  cannot_execute: 422,
  command_not_found: 422,
  cancelled: 499,
  internal: 500,
};

export interface ErrorBody { code: ErrorCode; message: string; detail?: unknown }

export class SbxError extends Error {
  readonly code: ErrorCode;
  readonly detail?: unknown;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; detail?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SbxError';
    this.code = code;
    if (options?.detail !== undefined) this.detail = options.detail;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.detail !== undefined) body.detail = this.detail;
    return body;
  }

  /** Rebuild an error from a wire body; anything unrecognised becomes `internal`. */
  static fromBody(body: unknown): SbxError {
    const b = (body ?? {}) as Partial<ErrorBody>;
    const code = ERROR_CODES.includes(b.code as ErrorCode) ? (b.code as ErrorCode) : 'internal';
    const message = typeof b.message === 'string' ? b.message : 'unknown error from daemon';
    return new SbxError(code, message, { detail: b.detail });
  }

  /** Wrap any thrown value: SbxErrors pass through, others become `internal` with context. */
  static wrap(err: unknown, context: string, code: ErrorCode = 'internal'): SbxError {
    if (err instanceof SbxError) return err;
    const msg = err instanceof Error ? err.message : String(err);
    return new SbxError(code, `${context}: ${msg}`, { cause: err });
  }
}

export function isCode(err: unknown, code: ErrorCode): err is SbxError {
  return err instanceof SbxError && err.code === code;
}
