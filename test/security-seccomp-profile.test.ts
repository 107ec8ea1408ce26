/** Seccomp profiles in docker's JSON format: how sbx resolves them for a host, and what it refuses. */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compileProfile, parseProfile, type SeccompProfile } from '../daemon/runtime/seccomp.js';
import { DEFAULT_PROFILE } from '../daemon/runtime/seccomp-default.js';

const prof = suite('security: seccomp profiles (docker\'s format)');
const HOST = { arch: 'x64', caps: ['CAP_CHOWN'], kernel: '6.1.0' };
const compiled = (p: unknown, host = HOST): string[] => compileProfile(parseProfile(p), host).trim().split('\n');

prof('includes and excludes: caps, arches and minKernel decide which rules apply', () => {
  const p = {
    defaultAction: 'SCMP_ACT_ERRNO',
    archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }, { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: [] }],
    syscalls: [
      { names: ['read'], action: 'SCMP_ACT_ALLOW' },
      { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
      { names: ['chown'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_CHOWN'] } },
      { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
      { names: ['cacheflush'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm64'] } },
      { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
      { names: ['future'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '7.0' } },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_CHOWN'] } },
    ],
  };
  const allow = 0x7fff0000;
  assert.equal(compiled(p), [`default ${0x50001}`, 'arch x86_64', 'arch x86',
    `rule ${allow} read`, `rule ${allow} chown`, `rule ${allow} arch_prctl`, `rule ${allow} ptrace`]);
});

prof('args: AND-ed in one rule, split into one rule each when an index repeats (runc); errnoRet and default errno', () => {
  const lines = compiled({
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38,
    syscalls: [
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }, { index: 1, value: 0, op: 'SCMP_CMP_NE' }] },
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO' },
      { names: ['rmdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    ],
  });
  assert.equal(lines, [`default ${0x50026}`,
    `rule ${0x7fff0000} personality 0 EQ 0 0`, `rule ${0x7fff0000} personality 0 EQ 8 0`,
    `rule ${0x7fff0000} clone 0 MASKED_EQ ${0x7e020000} 0 1 NE 0 0`,
    `rule ${0x50001} mkdir`]);
});

const BAD: [unknown, RegExp][] = [
  ['[]', /^seccomp profile: want a JSON object/],
  [{ syscalls: [] }, /defaultAction: unknown action undefined/],
  [{ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: -1 }, /defaultErrnoRet: want an errno number/],
  [{ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_Z80'] }, /architectures: unknown architecture "SCMP_ARCH_Z80"/],
  [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['Read!'], action: 'SCMP_ACT_ALLOW' }] }, /syscalls\[0\]\.names: "Read!" is not a syscall name/],
  [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['SYS_ADMIN'] } }] }, /includes\.caps: "SYS_ADMIN" is not a capability name/],
  [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', excludes: { minKernel: '4' } }] }, /excludes\.minKernel: want MAJOR\.MINOR/],
  [{ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }] }, /args\[0\]\.value: want a non-negative integer/],
  [{ defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_LOG'] }, /flags: filter flags are not supported/],
];
for (const [input, re] of BAD) {
  prof(`refused: ${JSON.stringify(input).slice(0, 90)}`, () => {
    assert.throws(() => parseProfile(typeof input === 'string' ? input : JSON.stringify(input)), (e: Error & { code?: string }) => e.code === 'invalid_argument' && re.test(e.message));
  });
}

prof('the default profile is docker\'s format and parses as such', () => {
  const text = JSON.stringify(DEFAULT_PROFILE);
  const again: SeccompProfile = parseProfile(text);
  const lines = compileProfile(again, HOST);
  assert.match(lines, /^default 327681\n/, 'EPERM by default');
  for (const name of ['io_uring_setup', 'keyctl', 'add_key', 'request_key', 'perf_event_open', 'bpf', 'userfaultfd', 'unshare', 'mount', 'setns', 'kcmp', 'get_mempolicy']) {
    assert.not.match(lines, new RegExp(` ${name}( |\\n)`), `${name} is not allowed to a default container`);
  }
  assert.match(lines, / clone3\n/, 'clone3 has a rule (ENOSYS)');
  assert.match(lines, /^rule 327718 clone3$/m);
});

prof.run();
