import { openNativeSnapshotter } from '../daemon/snapshots/native.js';
import { openOverlaySnapshotter } from '../daemon/snapshots/overlay.js';
import { differSuite } from './suites/differ.js';

differSuite('overlay', openOverlaySnapshotter);
differSuite('native', openNativeSnapshotter);
