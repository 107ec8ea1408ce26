/**
 * The page: images and containers, a run form, terminals (a tab strip of them: terminals.ts), the
 * live change list, commit and an image's history. Everything goes through the public API (api.ts) with the CLI's own route
 * descriptors, stream client and flag parsers; nothing here decides what the CLI does not.
 */
import { formatPorts, parsePort } from '../cli/containers.js';
import { humanSize, shortId, timeAgo } from '../cli/output.js';
import { CHANGE_LETTER, Commit, Containers, Images, Layers, type ContainerSummary, type ImageSummary } from '../protocol/index.js';
import { call, login, whenLoggedOut } from './api.js';
import { watchChanges, type ChangesView } from './changes.js';
import { $, el, replaceKeepingFocus } from './dom.js';
import { push } from './push.js';
import { terminalTabs, type TerminalTabs } from './terminals.js';

let terms: TerminalTabs;
let changes: ChangesView | undefined;
let current: string | undefined;

function report(e: unknown): void {
  const m = $('#message');
  m.textContent = e instanceof Error ? e.message : String(e);
  m.hidden = false;
}

async function refresh(): Promise<void> {
  const [images, containers] = await Promise.all([call(Images.list, {}), call(Containers.list, { all: true })]);
  renderImages(images);
  renderContainers(containers);
}

function renderImages(images: ImageSummary[]): void {
  const opts = images.flatMap((i) => i.repoTags.length ? i.repoTags : [shortId(i.id)]);
  for (const sel of [$('#run-image'), $('#push-image')] as HTMLSelectElement[]) {
    const was = sel.value;
    sel.replaceChildren(...opts.map((o) => el('option', { value: o }, o)));
    if (opts.includes(was)) sel.value = was;
  }
  replaceKeepingFocus($('#images'), ...images.map((i) => {
    const names = i.repoTags.length ? i.repoTags.flatMap((t, n) => n ? [el('br'), t] : [t]) : ['<none>'];
    const ref = i.repoTags[0] ?? i.id;
    const b = el('button', { class: 'link' }, 'history');
    b.addEventListener('click', () => { showHistory(ref).catch(report); });
    const l = el('button', { class: 'link' }, 'layers');
    l.addEventListener('click', () => { showLayers(ref).catch(report); });
    return el('tr', {}, el('td', {}, ...names), el('td', { class: 'mono' }, shortId(i.id)), el('td', {}, humanSize(i.size)), el('td', {}, timeAgo(i.created)), el('td', {}, b, ' ', l));
  }));
}

function renderContainers(list: ContainerSummary[]): void {
  replaceKeepingFocus($('#containers'), ...list.map((c) => {
    const actions = el('td', {});
    if (c.state === 'running') {
      const sh = el('button', { class: 'link' }, 'shell');
      sh.addEventListener('click', () => { execShell(c).catch(report); });
      // as `sbx attach`: the container's own session; any number of tabs may watch it at once
      const at = el('button', { class: 'link' }, 'attach');
      at.addEventListener('click', () => { if (!terms.show(c.id)) terms.open({ session: c.id, container: c, what: 'attach' }); });
      actions.append(sh, ' ', at);
    }
    const sel = el('button', { class: 'link' }, 'changes');
    sel.addEventListener('click', () => select(c.id, c.name, { again: true }));
    actions.append(sel);
    return el('tr', { 'data-name': c.name }, el('td', {}, c.name), el('td', {}, c.image), el('td', {}, c.status),
      el('td', {}, formatPorts(c.ports)), el('td', {}, timeAgo(c.created)), actions);
  }));
}

/**
 * The container the change list and the commit form are about: the current terminal's, or the
 * one whose "changes" was clicked (`again`: watch it anew). `watch: false`: not running yet.
 */
function select(id: string, name: string, o: { watch?: boolean; again?: boolean } = {}): void {
  if (current === id && !o.again) return;
  current = id;
  $('#selected').textContent = name;
  changes?.dispose();
  changes = undefined;
  $('#changes').replaceChildren();
  $('#change-detail').textContent = '';
  // the feed of a container that is not running ends at once: `run` watches once it started
  if (o.watch !== false) changes = watchChanges($('#changes'), $('#change-detail'), id);
  ($('#commit-button') as HTMLButtonElement).disabled = false;
}

async function run(ev: SubmitEvent): Promise<void> {
  ev.preventDefault();
  const f = ev.target as HTMLFormElement;
  const v = (n: string): string => (f.elements.namedItem(n) as HTMLInputElement).value.trim();
  const cmd = v('cmd') ? v('cmd').split(/\s+/) : undefined;
  const env = v('env').split('\n').map((s) => s.trim()).filter(Boolean);
  const ports = v('ports').split(/[\s,]+/).filter(Boolean).flatMap(parsePort);
  const { id, name } = await call(Containers.create, {
    image: v('image'), tty: true, openStdin: true,
    ...(v('name') ? { name: v('name') } : {}), ...(cmd ? { cmd } : {}), ...(env.length ? { env } : {}), ...(ports.length ? { ports } : {}),
  });
  select(id, name, { watch: false });
  // as `sbx run -it`: attach first (the session keeps output from offset 0), then start
  terms.open({
    session: id, container: { id, name }, what: `run ${cmd?.join(' ') ?? ''}`.trim(),
    start: async () => {
      await call(Containers.start, { id });
      if (current === id) changes = watchChanges($('#changes'), $('#change-detail'), id);
      await refresh();
    },
  });
}

async function execShell(c: ContainerSummary): Promise<void> {
  const { session } = await call(Containers.exec, { id: c.id, cmd: ['sh'], tty: true, openStdin: true });
  terms.open({ session, container: c, what: 'exec sh' });
}

async function commit(ev: SubmitEvent): Promise<void> {
  ev.preventDefault();
  if (!current) return;
  const f = ev.target as HTMLFormElement;
  const v = (n: string): string => (f.elements.namedItem(n) as HTMLInputElement).value.trim();
  const res = await call(Commit.commit, {
    id: current,
    ...(v('reference') ? { reference: v('reference') } : {}),
    ...(v('message') ? { message: v('message') } : {}),
    ...(v('author') ? { author: v('author') } : {}),
    ...(v('cmd') ? { changes: [`CMD ${v('cmd')}`] } : {}),
  });
  $('#commit-result').textContent = `committed ${shortId(res.Id)}${res.Name ? ` as ${res.Name}` : ''}`;
  await refresh();
  await showHistory(res.Name ?? res.Id);
}

async function showHistory(ref: string): Promise<void> {
  const rows = await call(Images.history, { ref });
  $('#history-of').textContent = ref;
  $('#history').replaceChildren(...rows.map((r) => el('tr', {}, el('td', { class: 'mono' }, r.id === '<missing>' ? r.id : shortId(r.id)),
    el('td', {}, timeAgo(r.created)), el('td', { class: 'mono' }, r.createdBy), el('td', {}, humanSize(r.size)), el('td', {}, r.comment))));
}

/** The layer explorer: per layer (top first) its size, what made it, and its A/C/D files. */
async function showLayers(ref: string): Promise<void> {
  const layers = await call(Layers.list, { ref });
  $('#layers-of').textContent = ref;
  $('#layers').replaceChildren(...layers.reverse().map((l, i) => {
    const files = el('ul', { class: 'layer-files' }, ...l.changes.map((c) => el('li', { class: `op-${c.op} mono` },
      `${CHANGE_LETTER[c.op]} ${c.path}${c.size !== undefined ? `  ${humanSize(c.size)}` : ''}`)));
    if (l.truncated) files.append(el('li', {}, '…'));
    const summary = el('summary', {}, `${shortId(l.digest)}  ${humanSize(l.size)}  ${l.changes.length}${l.truncated ? '+' : ''} files  ${l.createdBy ?? ''}`);
    const d = el('details', {}, summary, files);
    if (i === 0) d.open = true;
    return d;
  }));
}

async function boot(): Promise<void> {
  whenLoggedOut(() => { $('#login-needed').hidden = false; });
  await login();
  terms = terminalTabs({
    strip: $('#term-tabs'), panes: $('#terminal'), status: $('#term-status'),
    selected: (c) => select(c.id, c.name),
    ended: () => { refresh().catch(report); },
  });
  $('#run-form').addEventListener('submit', (e) => { run(e as SubmitEvent).catch(report); });
  $('#commit-form').addEventListener('submit', (e) => { commit(e as SubmitEvent).catch(report); });
  $('#push-form').addEventListener('submit', (e) => { push(e as SubmitEvent).catch(report); });
  $('#refresh').addEventListener('click', () => { refresh().catch(report); });
  await refresh();
  setInterval(() => { refresh().catch(() => undefined); }, 5000);
}

boot().catch(report);
