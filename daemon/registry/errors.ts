/**
 * The distribution spec's error codes and their HTTP statuses, and the one table mapping sbx's
 * own error codes onto them. Bodies are `{"errors":[{code, message, detail}]}`.
 */
import { SbxError, isDigest, type Digest, type ErrorCode } from '../../protocol/index.js';

export type RegistryErrorCode =
  | 'BLOB_UNKNOWN' | 'BLOB_UPLOAD_INVALID' | 'BLOB_UPLOAD_UNKNOWN' | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN' | 'MANIFEST_INVALID' | 'MANIFEST_UNKNOWN' | 'NAME_INVALID'
  | 'NAME_UNKNOWN' | 'SIZE_INVALID' | 'UNAUTHORIZED' | 'DENIED' | 'UNSUPPORTED' | 'TOOMANYREQUESTS';

export const REGISTRY_STATUS: Readonly<Record<RegistryErrorCode, number>> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
};

export class RegistryError extends Error {
  constructor(readonly code: RegistryErrorCode, message: string, readonly status = REGISTRY_STATUS[code], readonly detail?: unknown) {
    super(message);
    this.name = 'RegistryError';
  }

  body(): { errors: { code: string; message: string; detail?: unknown }[] } {
    return { errors: [{ code: this.code, message: this.message, ...(this.detail !== undefined ? { detail: this.detail } : {}) }] };
  }
}

const FROM_SBX: Partial<Record<ErrorCode, RegistryErrorCode>> = {
  digest_mismatch: 'DIGEST_INVALID',
  invalid_argument: 'DIGEST_INVALID',
  not_found: 'BLOB_UNKNOWN',
  unauthorized: 'UNAUTHORIZED',
  not_implemented: 'UNSUPPORTED',
};

/** An SbxError as a registry error (an explicit `detail.registry` code wins); undefined for other errors. */
export function fromSbxError(e: unknown): RegistryError | undefined {
  if (e instanceof RegistryError) return e;
  if (!(e instanceof SbxError)) return undefined;
  const explicit = (e.detail as { registry?: RegistryErrorCode } | undefined)?.registry;
  const code = explicit ?? FROM_SBX[e.code];
  return code ? new RegistryError(code, e.message) : undefined;
}

const NAME_RE = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$/;

export function checkName(name: string): string {
  if (name.length > 255 || !NAME_RE.test(name)) throw new RegistryError('NAME_INVALID', `invalid repository name "${name}"`);
  return name;
}

export function checkDigest(s: string): Digest {
  if (!isDigest(s)) {
    const why = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(s) && !s.startsWith('sha256:') ? 'only sha256 is supported' : 'expected sha256:<64 hex>';
    throw new RegistryError('DIGEST_INVALID', `invalid digest "${s}": ${why}`);
  }
  return s;
}

