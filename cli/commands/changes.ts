import type { Command } from '../command.js';
import { command as watch } from './watch.js';

/** `sbx changes CONTAINER`: the change journal under the name issue 12 gives it (`watch` is the alias). */
export const command: Command = { ...watch, name: 'changes', usage: 'sbx changes [OPTIONS] CONTAINER' };
