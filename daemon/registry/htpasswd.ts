/**
 * htpasswd Basic auth for the embedded registry, as distribution's htpasswd backend: bcrypt
 * entries only (`htpasswd -B`, "$2y$"/"$2a$"/"$2b$"). bcrypt is slow by design, so a verified
 * credential is remembered (by its sha256) while the file is unchanged.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import bcrypt from 'bcryptjs';
import { SbxError } from '../../protocol/index.js';

export interface Htpasswd {
  /** The user name when the Authorization header carries valid Basic credentials. */
  check(authorization: string | undefined): Promise<string | undefined>;
}

export async function loadHtpasswd(path: string): Promise<Htpasswd> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new SbxError('invalid_argument', `read htpasswd file ${path}: ${(e as Error).message}`, { cause: e });
  }
  const users = new Map<string, string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    const hash = line.slice(colon + 1);
    if (colon <= 0 || !/^\$2[aby]\$\d\d\$/.test(hash)) {
      throw new SbxError('invalid_argument', `htpasswd file ${path} line ${i + 1}: only bcrypt entries are supported (htpasswd -B)`);
    }
    users.set(line.slice(0, colon), hash.replace(/^\$2y\$/, '$2b$'));
  }
  const good = new Set<string>();
  return {
    async check(authorization) {
      const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '');
      if (!m) return undefined;
      const plain = Buffer.from(m[1]!, 'base64').toString('utf8');
      const colon = plain.indexOf(':');
      if (colon < 0) return undefined;
      const user = plain.slice(0, colon);
      const hash = users.get(user);
      if (!hash) return undefined;
      const key = createHash('sha256').update(plain).digest('hex');
      if (good.has(key)) return user;
      if (!(await bcrypt.compare(plain.slice(colon + 1), hash))) return undefined;
      good.add(key);
      return user;
    },
  };
}
