/**
 * The Dockerfile language for `sbx build` (daemon/build/ imports from here): parse, plan,
 * evaluate step by step, and resolve/checksum COPY sources in the context. See types.ts for the
 * seam and each module's header for the docker rules it follows.
 */
export type * from './types.js';
export { parseDockerfile, parseTrigger } from './parse.js';
export { expand, expandWords, envVars } from './expand.js';
export { evaluate, initialState, stageVars, copyCreatedBy, PROXY_ARGS } from './evaluate.js';
export { plan, platformArgs, onbuildInstructions, type PlanOptions } from './plan.js';
export { loadIgnore, parseIgnore, resolveCopy, copyChecksum, globRegExp, type IgnoreMatcher, type ResolveOptions } from './context.js';
