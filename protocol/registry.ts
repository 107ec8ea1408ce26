/**
 * Registry verbs: pull and push ('progress' routes: one event per layer state change, as docker
 * prints them, then the result), login and logout (credentials kept by sbxd in a 0600 file).
 */
import { route } from './api.js';
import type { Digest } from './oci.js';
import { bool, opt, str, type Fields } from './validate.js';

export interface PullRequest {
  /** "alpine", "127.0.0.1:5000/me/app:1", "host/app@sha256:…" */
  reference: string;
  /** "os/arch[/variant]"; default the daemon host's. */
  platform?: string;
  /** Allow plain HTTP to this registry although it is not loopback. */
  insecure?: boolean;
}

export const pullFields: Fields<PullRequest> = { reference: str, platform: opt(str), insecure: opt(bool) };

export interface PullResult {
  /** Normalised reference pulled ("docker.io/library/alpine:latest"). */
  reference: string;
  /** Manifest digest (the platform's manifest). */
  digest: Digest;
  /** Image ID (config digest). */
  id: Digest;
  /** false when the tag already named this image ("Image is up to date"). */
  changed: boolean;
}

export interface PushRequest { reference: string; insecure?: boolean }
export const pushFields: Fields<PushRequest> = { reference: str, insecure: opt(bool) };

export interface PushResult {
  reference: string;
  /** Digest of the manifest as the registry stores it. */
  digest: Digest;
  /** Its size in bytes (docker prints "size: N"). */
  size: number;
}

export interface LoginRequest { registry: string; username: string; password: string; insecure?: boolean }
export const loginFields: Fields<LoginRequest> = { registry: str, username: str, password: str, insecure: opt(bool) };

export const Registry = {
  pull: route<PullRequest, PullResult>('POST', '/v1/images/pull', 'progress', pullFields),
  push: route<PushRequest, PushResult>('POST', '/v1/images/push', 'progress', pushFields),
  login: route<LoginRequest, { registry: string }>('POST', '/v1/auth/login', 'json', loginFields),
  logout: route<{ registry: string }, { removed: boolean }>('POST', '/v1/auth/logout', 'json', { registry: str }),
} as const;
