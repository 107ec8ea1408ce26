/** `sbx ui`: start the page's listener (or reuse it) and mint a one-time login token. */
import { Ui } from '../../protocol/index.js';
import type { UiServer } from '../ui/server.js';
import type { ApiServer } from './server.js';

export function registerUi(api: ApiServer, ui: UiServer): void {
  api.router.on(Ui.start, async (req) => ui.start(req));
}
