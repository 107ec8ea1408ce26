import { join } from 'node:path';
import { openLocalContentStore } from '../daemon/content/local.js';
import { contentSuite } from './suites/content.js';

contentSuite('local', (root) => openLocalContentStore(join(root, 'oci'), join(root, 'ingest')));
