/** The transfer conformance suite against the local store and against the registry client talking to the embedded registry on loopback. */
import { join } from 'node:path';
import { parseReference } from '../protocol/index.js';
import { openLocalContentStore } from '../daemon/content/local.js';
import { localDestination, localSource } from '../daemon/images/local-transfer.js';
import { openImageStore } from '../daemon/images/store.js';
import { CredentialStore, RegistryClient } from '../daemon/remotes/client.js';
import { startRegistry } from '../daemon/registry/server.js';
import { silentLogger } from '../daemon/util/log.js';
import { rmrf, tmpdir } from './_helpers/tmp.js';
import { transferSuite } from './suites/transfer.js';

transferSuite('local', async () => {
  const dir = await tmpdir('sbx-transfer-local-');
  const stores = { content: await openLocalContentStore(join(dir, 'oci'), join(dir, 'ingest')), images: await openImageStore(join(dir, 'oci')) };
  return {
    source: (repo, tag) => localSource(stores, `${repo}:${tag}`),
    destination: (repo, tag) => localDestination(stores, `${repo}:${tag}`),
    close: () => rmrf(dir),
  };
});

transferSuite('registry client ↔ embedded registry', async () => {
  const dir = await tmpdir('sbx-transfer-reg-');
  const content = await openLocalContentStore(join(dir, 'oci'), join(dir, 'ingest'));
  const reg = await startRegistry({ content, root: join(dir, 'registry'), log: silentLogger }, '127.0.0.1:0');
  const client = new RegistryClient({ credentials: new CredentialStore(join(dir, 'auth.json'), { HOME: join(dir, 'home') }) });
  const ref = (repo: string, tag: string) => parseReference(`${reg.host}/${repo}:${tag}`);
  return {
    source: (repo, tag) => client.source(ref(repo, tag)),
    destination: (repo, tag) => client.destination(ref(repo, tag)),
    async close() { await reg.close(); await rmrf(dir); },
  };
});
