/**
 * The browser page's credentials, in memory only (a daemon restart logs every browser out):
 * - login tokens: one-time, minted for `sbx ui`, valid LOGIN_TTL_MS;
 * - sessions: what a login token becomes (the cookie's value), valid SESSION_TTL_MS;
 * - tickets: single-use, bound to one WebSocket path, valid TICKET_TTL_S.
 * Every secret is 256 random bits, base64url. Maps are keyed by the secret's SHA-256, so a lookup
 * leaks nothing about the secret through timing, and no secret is ever kept or logged in clear.
 */
import { createHash, randomBytes } from 'node:crypto';

const LOGIN_TTL_MS = 15 * 60_000;
const SESSION_TTL_MS = 12 * 3600_000;
export const TICKET_TTL_S = 30;

const hash = (secret: string): string => createHash('sha256').update(secret).digest('base64url');
const mint = (): string => randomBytes(32).toString('base64url');

export class UiAuth {
  private readonly logins = new Map<string, number>();
  private readonly sessions = new Map<string, number>();
  private readonly tickets = new Map<string, { path: string; until: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new one-time login token. */
  loginToken(): string {
    const t = mint();
    this.logins.set(hash(t), this.now() + LOGIN_TTL_MS);
    return t;
  }

  /** Spend a login token: a new session's secret, or undefined if the token is unknown, used or expired. */
  login(token: string): string | undefined {
    const key = hash(token);
    const until = this.logins.get(key);
    this.logins.delete(key);
    if (until === undefined || until < this.now()) return undefined;
    const s = mint();
    this.sessions.set(hash(s), this.now() + SESSION_TTL_MS);
    return s;
  }

  /** Whether a `Cookie:` header carries a live session under `name`. */
  hasSession(cookieHeader: string | undefined, name: string): boolean {
    const s = cookieValue(cookieHeader, name);
    if (s === undefined) return false;
    const until = this.sessions.get(hash(s));
    return until !== undefined && until >= this.now();
  }

  /** A single-use ticket for the WebSocket at `path`. */
  ticket(path: string): string {
    this.sweep();
    const t = mint();
    this.tickets.set(hash(t), { path, until: this.now() + TICKET_TTL_S * 1000 });
    return t;
  }

  /** Spend a ticket for `path`: true once, for its own path, before it expires. */
  redeem(ticket: string, path: string): boolean {
    const key = hash(ticket);
    const t = this.tickets.get(key);
    this.tickets.delete(key);
    return t !== undefined && t.path === path && t.until >= this.now();
  }

  private sweep(): void {
    const now = this.now();
    for (const m of [this.logins, this.sessions]) for (const [k, until] of m) if (until < now) m.delete(k);
    for (const [k, t] of this.tickets) if (t.until < now) this.tickets.delete(k);
  }
}

/** The value of cookie `name` in a `Cookie:` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
