/**
 * Networks: `sbx network create|ls|inspect|rm|prune`, with docker's shapes.
 * - create makes a user network (a bridge in its own sbxd-owned network namespace; subnet from
 *   docker's pools unless given) and answers its id; names are unique (already_exists).
 * - list/inspect include the predefined bridge, host and none; inspect's Containers lists the
 *   running members with their addresses.
 * - remove refuses a network with running members and the predefined ones (failed_precondition).
 * - prune removes every user network without members and answers their names.
 * - connect adds a network to a container (joined at once when it runs: a new ethN; else at its
 *   next start); disconnect takes it away (failed_precondition when it is not connected).
 * Errors: not_found, already_exists, invalid_argument (name, subnet), failed_precondition.
 */
import { route } from './api.js';
import { arrayOf, bool, opt, str } from './validate.js';

/** labels: KEY=VALUE (docker's --label). */
export interface NetworkCreateRequest { name: string; subnet?: string; gateway?: string; internal?: boolean; labels?: string[] }

/** docker network inspect, field for field. */
export interface NetworkInspect {
  Name: string; Id: string; Created: string; Scope: 'local'; Driver: string; EnableIPv6: boolean;
  IPAM: { Driver: 'default'; Options: Record<string, string>; Config: { Subnet: string; Gateway: string }[] };
  Internal: boolean; Attachable: boolean; Ingress: boolean; ConfigFrom: { Network: string }; ConfigOnly: boolean;
  Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }>;
  Options: Record<string, string>; Labels: Record<string, string>;
}

export const Networks = {
  create: route<NetworkCreateRequest, { Id: string; Warning: string }>('POST', '/v1/networks', 'json',
    { name: str, subnet: opt(str), gateway: opt(str), internal: opt(bool), labels: opt(arrayOf(str)) }),
  list: route<Record<string, never>, NetworkInspect[]>('GET', '/v1/networks', 'json', {}),
  inspect: route<{ id: string }, NetworkInspect>('GET', '/v1/networks/:id', 'json', { id: str }),
  remove: route<{ id: string }, void>('DELETE', '/v1/networks/:id', 'json', { id: str }),
  connect: route<{ id: string; container: string; aliases?: string[] }, void>('POST', '/v1/networks/:id/connect', 'json', { id: str, container: str, aliases: opt(arrayOf(str)) }),
  disconnect: route<{ id: string; container: string; force?: boolean }, void>('POST', '/v1/networks/:id/disconnect', 'json', { id: str, container: str, force: opt(bool) }),
  prune: route<Record<string, never>, { NetworksDeleted: string[] }>('POST', '/v1/networks/prune', 'json', {}),
} as const;
