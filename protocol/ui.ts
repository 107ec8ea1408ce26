/**
 * The browser page (`sbx ui`, `sbxd --ui ADDR`): a second listener serving the static page and the
 * same API under a browser session. How a browser gets in:
 *
 * 1. `sbx ui` asks the daemon (over its unix socket) to listen and mint a one-time login token;
 *    it prints `URL#token=TOKEN` (a fragment: never sent in a request line, never logged).
 * 2. The page POSTs the token to `/ui/login`; the answer sets an HttpOnly, SameSite=Strict session
 *    cookie and the page drops the fragment. A token works once.
 * 3. Every /v1 route on the listener needs that cookie; one that changes state also needs the
 *    page's own Origin (CSRF). A WebSocket needs the page's own Origin and a single-use ticket
 *    for its exact path (POST /v1/ui/tickets), offered as the subprotocol `sbx.auth.TICKET` next
 *    to the channel's own: a cookie alone never opens a WebSocket.
 * A listener on an address other than loopback needs a TLS certificate and key, or `insecure`.
 */
import { route } from './api.js';
import { bool, opt, str, type Fields } from './validate.js';

export const UI_DEFAULT_ADDR = '127.0.0.1:7080';
/** The subprotocol that carries a WebSocket ticket: `sbx.auth.` + the ticket (base64url). */
export const UI_AUTH_PROTOCOL_PREFIX = 'sbx.auth.';
/** The session cookie's name. */
export const UI_SESSION_COOKIE = 'sbx_session';

export interface UiStartRequest {
  /** host:port to listen on (default UI_DEFAULT_ADDR); an already running listener is reused. */
  addr?: string;
  /** PEM files (paths on the daemon's host) for HTTPS; both or neither. */
  tlsCert?: string;
  tlsKey?: string;
  /** Allow plain HTTP on an address other than loopback. */
  insecure?: boolean;
}

export const uiStartFields: Fields<UiStartRequest> = { addr: opt(str), tlsCert: opt(str), tlsKey: opt(str), insecure: opt(bool) };

export interface UiStartResponse {
  /** The page's URL, without the token ("http://127.0.0.1:7080/"). */
  url: string;
  /** A fresh one-time login token. */
  token: string;
}

export interface UiLoginRequest { token: string }
export interface TicketRequest {
  /** The WebSocket path the ticket opens ("/v1/sessions/s_1/attach"). */
  path: string;
}
export interface Ticket { ticket: string; expiresIn: number }

export const Ui = {
  /** On the daemon's socket: listen (or reuse the listener) and mint a login token. */
  start: route<UiStartRequest, UiStartResponse>('POST', '/v1/ui', 'json', uiStartFields),
  /** On the UI listener only: a login token → the session cookie (204). */
  login: route<UiLoginRequest, void>('POST', '/ui/login', 'json', { token: str }),
  /** On the UI listener only: a single-use ticket (valid `expiresIn` seconds) for one WebSocket path. */
  ticket: route<TicketRequest, Ticket>('POST', '/v1/ui/tickets', 'json', { path: str }),
} as const;
