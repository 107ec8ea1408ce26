import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkTemplate, formatList, goStruct, labelMethod, renderTemplate, tabwriter } from '../cli/template.js';

const C = {
  ID: 'abc', Names: 'web', Image: 'busybox', State: 'running', Ports: '', Count: 3,
  Labels: { 'com.example.tier': 'front', env: 'dev' }, Mounts: ['/a', '/b'], Empty: [],
  NetworkSettings: { Networks: { bridge: { IPAddress: '10.88.0.2' }, app: { IPAddress: '10.89.0.5' } } },
};

// Expected outputs are what Go's text/template + the docker CLI's functions print for the same JSON.
const CASES: [string, string][] = [
  ['{{.Names}}', 'web'],
  ['{{.ID}}\\t{{.Image}}', 'abc\tbusybox'],
  ['{{.Missing}}', '<no value>'],
  ['{{.Labels}}', 'map[com.example.tier:front env:dev]'],
  ['{{.Mounts}}', '[/a /b]'],
  ['{{json .Labels}}', '{"com.example.tier":"front","env":"dev"}'],
  ['{{index .Labels "com.example.tier"}}', 'front'],
  ['{{index .Mounts 1}}', '/b'],
  ['{{len .Mounts}}', '2'],
  ['{{join .Mounts ","}}', '/a,/b'],
  ['{{upper .Names}} {{lower "AB"}} {{title "hello world"}}', 'WEB ab Hello World'],
  ['{{.Names | upper}}', 'WEB'],
  ['{{split "a:b:c" ":"}}', '[a b c]'],
  ['{{truncate .Image 4}}', 'busy'],
  ['{{printf "%-6s|%5d|%q" .Names .Count .Image}}', 'web   |    3|"busybox"'],
  ['{{printf "%s" .Names | printf "<%s>"}}', '<web>'],
  ['{{if eq .State "running"}}up{{else}}down{{end}}', 'up'],
  ['{{if eq .State "exited" "dead"}}x{{else if .Ports}}p{{else}}none{{end}}', 'none'],
  ['{{if and .Names (not .Empty)}}yes{{end}}', 'yes'],
  ['{{if gt .Count 2}}big{{end}}', 'big'],
  ['{{range .Mounts}}[{{.}}]{{end}}', '[/a][/b]'],
  ['{{range $i, $m := .Mounts}}{{$i}}={{$m}} {{end}}', '0=/a 1=/b '],
  ['{{range $k, $v := .Labels}}{{$k}}={{$v}};{{end}}', 'com.example.tier=front;env=dev;'],
  ['{{range .Empty}}x{{else}}empty{{end}}', 'empty'],
  ['{{range $n, $c := .NetworkSettings.Networks}}{{$n}}:{{$c.IPAddress}} {{end}}', 'app:10.89.0.5 bridge:10.88.0.2 '],
  ['{{range .Mounts}}{{if eq . "/a"}}{{continue}}{{end}}{{.}}{{end}}', '/b'],
  ['{{range .Mounts}}{{.}}{{break}}{{end}}', '/a'],
  ['{{with .NetworkSettings.Networks.bridge}}{{.IPAddress}}{{end}}', '10.88.0.2'],
  ['{{with .Nope}}x{{else}}no{{end}}', 'no'],
  ['{{$n := .Names}}{{range .Mounts}}{{$n}}{{.}} {{end}}', 'web/a web/b '],
  ['{{(index .NetworkSettings.Networks "app").IPAddress}}', '10.89.0.5'],
  ['{{pad .Names 1 2}}|', ' web  |'],
  ['{{- /* a comment */ -}} {{.Names}}  {{- "!" }}', 'web!'],
  ['{{print 1 2 "a" 3}} {{println .Names}}', '1 2a3 web\n'],
  ['{{`raw {{x}}`}}', 'raw {{x}}'],
  ['{{.}}', 'map[Count:3 Empty:[] ID:abc Image:busybox Labels:map[com.example.tier:front env:dev] Mounts:[/a /b] Names:web NetworkSettings:map[Networks:map[app:map[IPAddress:10.89.0.5] bridge:map[IPAddress:10.88.0.2]]] Ports: State:running]'],
];
for (const [tpl, want] of CASES) test(`render ${tpl}`, () => assert.is(renderTemplate(tpl, C), want));

const BAD: [string, RegExp][] = [
  ['{{foo .Names}}', /template parsing error: template: :1: function "foo" not defined/],
  ['{{if .Names}}x', /unexpected EOF/],
  ['{{end}}', /unexpected \{\{end\}\}/],
  ['{{.Names', /unclosed action/],
  ['{{template "x"}}', /\{\{template\}\} is not supported/],
  ['{{break}}', /outside \{\{range\}\}/],
  ['{{$x}}', /undefined variable "\$x"/],
  ['{{(.Names}}', /unclosed left paren/],
];
for (const [tpl, want] of BAD) {
  test(`refuse ${tpl}`, () => {
    try { checkTemplate(tpl); renderTemplate(tpl, C); assert.unreachable('accepted'); } catch (e) {
      assert.match((e as Error).message, want);
      assert.is((e as { code?: string }).code, 'invalid_argument');
    }
  });
}

test('run-time errors name the function and line', () => {
  assert.throws(() => renderTemplate('{{index .Mounts 5}}', C), /error calling index: index out of range: 5/);
  assert.throws(() => renderTemplate('{{.Names.First}}', C), /can't evaluate field First/);
});

test('table TEMPLATE: header from the command\'s titles, docker\'s tabwriter (minwidth 10, padding 3)', () => {
  const out = formatList('table {{.ID}}\\t{{.Names}}\\t{{.Image}}', [C, { ...C, ID: 'abcdef0123456', Names: 'db' }],
    { headers: { ID: 'CONTAINER ID', Names: 'NAMES' }, table: () => 'default' });
  assert.is(out, 'CONTAINER ID    NAMES     IMAGE\nabc             web       busybox\nabcdef0123456   db        busybox\n');
  assert.is(formatList(undefined, [C], { headers: {}, table: () => 'default' }), 'default');
  assert.is(formatList('table', [C], { headers: {}, table: () => 'default' }), 'default');
  assert.is(formatList('json', [{ a: 1 }], { headers: {}, table: () => '' }), '{"a":1}\n');
  assert.is(formatList('{{.Names}}', [C, C], { headers: {}, table: () => '' }), 'web\nweb\n');
});

test('a docker context (a Go struct): a field it lacks is an error, methods take their arguments', () => {
  const how = { type: '*formatter.ContainerContext', headers: {}, table: () => '', methods: (r: { Labels: string }) => labelMethod(r.Labels) };
  const row = { Names: 'web', Labels: 'app=web,tier=front' };
  assert.throws(() => formatList('{{.Nope}}', [row], how), /executing "" at <\.Nope>: can't evaluate field Nope in type \*formatter\.ContainerContext/);
  assert.is(formatList('{{.Label "tier"}}|{{.Label "none"}}|{{.Names}}', [row], how), 'front||web\n');
  assert.is(formatList('{{.Label "app" | upper}}', [row], how), 'WEB\n');
  assert.throws(() => formatList('{{.Label}}', [row], how), /wrong number of args for Label: want 1 got 0/);
  assert.is(formatList('json', [row], how), '{"Names":"web","Labels":"app=web,tier=front"}\n', 'the mark is not in the JSON');
  // a map inside a struct stays a map; a nested struct is checked too
  const v = goStruct({ Config: { Labels: {} }, Server: goStruct({ Version: '1' }, 'types.Version') }, 'x');
  assert.is(renderTemplate('{{.Config.Labels.none}}', v), '<no value>');
  assert.throws(() => renderTemplate('{{.Server.Nope}}', v), /can't evaluate field Nope in type types\.Version/);
  assert.throws(() => renderTemplate('{{.Nope}}', { A: 1 }, 'command.info'), /can't evaluate field Nope in type command\.info/);
});

test('tabwriter keeps the text after the last tab unpadded', () => {
  assert.is(tabwriter('a\tb\nlonger\tc'), 'a         b\nlonger    c');
});

test.run();
