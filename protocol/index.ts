// The only import path cli/ and daemon/ use for the wire. A leaf: imports nothing outside protocol/.
export * from './errors.js';
export * from './oci.js';
export * from './reference.js';
export * from './api.js';
export * from './validate.js';
export * from './images.js';
export * from './changes.js';
export * from './registry.js';
export * from './stream.js';
export * from './stream-client.js';
export * from './containers.js';
export * from './lifecycle.js';
export * from './commit.js';
export * from './build.js';
export * from './units.js';
export * from './capabilities.js';
export * from './networks.js';
