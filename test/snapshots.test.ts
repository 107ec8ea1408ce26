import { openNativeSnapshotter } from '../daemon/snapshots/native.js';
import { openOverlaySnapshotter } from '../daemon/snapshots/overlay.js';
import { snapshotterSuite } from './suites/snapshotter.js';

snapshotterSuite('overlay', openOverlaySnapshotter);
snapshotterSuite('native', openNativeSnapshotter);
