/**
 * The seam between the Dockerfile language (daemon/dockerfile/, pure) and the build executor
 * (daemon/build/). The front parses text into a Dockerfile, plans which stages a target needs,
 * and turns one instruction plus the stage's state into one Step; the executor runs the Step,
 * keys its cache on it and commits. Nothing here touches the disk except the context module.
 *
 * Functions (module → export):
 *   parse.ts    parseDockerfile(text, file): Dockerfile            (syntax only, nothing expanded)
 *   expand.ts   expand(word, vars, escape): string                  (moby shell lexer, ProcessWord)
 *               expandWords(text, vars, escape): string[]           (ProcessWords: split + expand)
 *   evaluate.ts evaluate(instr, state): Step                        (one instruction, docker's dispatchers)
 *               initialState(baseConfig, planned.globals, buildArgs, escape): StageState
 *               copyCreatedBy(step, sum): string                    (history text needs the content sum)
 *   plan.ts     plan(dockerfile, { target?, buildArgs, platform? }): BuildPlan
 *               onbuildInstructions(triggers, src): Instruction[]   (a base image's OnBuild → instructions)
 *   context.ts  loadIgnore(contextDir, dockerfilePath?): Promise<IgnoreMatcher>; parseIgnore(text)
 *               resolveCopy(root, sources, { src, ignore?, destIsDir? }): Promise<ResolvedCopy>
 *               copyChecksum(root, resolved, { chmod?, chown?, keepOwner? }): Promise<string>
 *
 * Errors: every syntax or semantic error is SbxError invalid_argument with a message that starts
 * `FILE:LINE: ` (e.g. `Dockerfile:3: unknown instruction: RUNN`), as docker names the line.
 */
import type { ContainerConfig } from '../../protocol/index.js';

/** Where an instruction came from: 1-based, endLine ≥ line (continuations, heredoc bodies). */
export interface SourceRange { file: string; line: number; endLine: number }

/** `# directive=value` lines at the top of the file (before any instruction or other comment). */
export interface Directives {
  escape: '\\' | '`';
  syntax?: string;
  check?: string;
}

/** A heredoc attached to RUN/COPY/ADD: `<<EOF`, `<<-EOF` (strip leading tabs), `<<"EOF"` (no expansion). */
export interface Heredoc {
  name: string;
  /** The body, ending in "\n" as docker keeps it; leading tabs already stripped for `<<-`. */
  content: string;
  /** false when the delimiter was quoted: the body is not variable-expanded. */
  expand: boolean;
  chomp: boolean;
}

/** Command forms of RUN/CMD/ENTRYPOINT/HEALTHCHECK CMD. exec = a JSON array, shell = the raw text. */
export type CommandForm = { exec: string[] } | { shell: string };

/** A parsed `--mount=` of RUN (raw, unexpanded values; evaluate expands them). */
export interface RunMount {
  type: 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
  target: string;
  /** bind/cache: a path inside `from` (stage name/index or image) or the context. */
  source?: string;
  from?: string;
  readonly: boolean;
  /** cache: the cache id (defaults to target), sharing shared|private|locked (default shared). */
  id?: string;
  sharing?: 'shared' | 'private' | 'locked';
  mode?: number;
  uid?: number;
  gid?: number;
  required?: boolean;
  size?: number;
}

interface InstrBase {
  src: SourceRange;
  /** The instruction as written (continuations joined, heredoc bodies excluded). */
  original: string;
  /** Every `--flag[=value]` before the arguments, raw; typed copies live on the instruction. */
  flags: Record<string, string | true>;
  /** The arguments after the flags, raw and unexpanded (continuations joined). */
  args: string;
  heredocs: Heredoc[];
}

export interface FromInstr extends InstrBase { kind: 'FROM'; image: string; name?: string; platform?: string }
export interface RunInstr extends InstrBase {
  kind: 'RUN'; command: CommandForm; mounts: RunMount[];
  network?: 'default' | 'none' | 'host'; security?: 'sandbox' | 'insecure';
}
export interface CopyInstr extends InstrBase {
  kind: 'COPY' | 'ADD';
  /** Raw sources (unexpanded; heredoc names appear as `<<EOF`) and the raw destination. */
  sources: string[]; dest: string;
  from?: string; chown?: string; chmod?: string; link: boolean; parents: boolean;
  exclude: string[]; checksum?: string; keepGitDir: boolean;
}
export interface EnvInstr extends InstrBase { kind: 'ENV'; pairs: [string, string][] }
export interface LabelInstr extends InstrBase { kind: 'LABEL'; pairs: [string, string][] }
export interface ArgInstr extends InstrBase { kind: 'ARG'; vars: { key: string; value?: string }[] }
export interface WorkdirInstr extends InstrBase { kind: 'WORKDIR'; path: string }
export interface CmdInstr extends InstrBase { kind: 'CMD' | 'ENTRYPOINT'; command: CommandForm }
export interface ExposeInstr extends InstrBase { kind: 'EXPOSE'; ports: string[] }
export interface UserInstr extends InstrBase { kind: 'USER'; user: string }
export interface VolumeInstr extends InstrBase { kind: 'VOLUME'; paths: string[] }
export interface StopSignalInstr extends InstrBase { kind: 'STOPSIGNAL'; signal: string }
export interface HealthcheckInstr extends InstrBase { kind: 'HEALTHCHECK' }
export interface ShellInstr extends InstrBase { kind: 'SHELL'; shell: string[] }
export interface OnbuildInstr extends InstrBase { kind: 'ONBUILD'; trigger: string }
export interface MaintainerInstr extends InstrBase { kind: 'MAINTAINER'; maintainer: string }

export type Instruction =
  | FromInstr | RunInstr | CopyInstr | EnvInstr | LabelInstr | ArgInstr | WorkdirInstr | CmdInstr
  | ExposeInstr | UserInstr | VolumeInstr | StopSignalInstr | HealthcheckInstr | ShellInstr
  | OnbuildInstr | MaintainerInstr;

/** One `FROM … [AS name]` and the instructions up to the next FROM. index counts from 0. */
export interface Stage { index: number; name?: string; from: FromInstr; instructions: Instruction[] }

export interface Dockerfile { directives: Directives; globalArgs: ArgInstr[]; stages: Stage[] }

/**
 * The state a stage's steps are evaluated against. The executor starts it with initialState()
 * (the base image's config; FROM scratch → {}) and threads it: after a 'config' Step set
 * state.config = step.config, after an 'arg' Step set state.args = step.args.
 */
export interface StageState {
  config: ContainerConfig;
  /** ARGs declared in this stage so far, with their effective values (undefined = no value). */
  args: Record<string, string | undefined>;
  /** --build-arg values (the whole set; only declared or predefined ones take effect). */
  buildArgs: Record<string, string>;
  /** The global ARGs (before the first FROM) with their values: `ARG X` in a stage inherits X. */
  globals: Record<string, string | undefined>;
  /** CMD was set earlier in this stage (ENTRYPOINT then keeps it, as docker does). */
  cmdSet?: boolean;
  /** The escape token of the Dockerfile (the `# escape=` directive). */
  escape: '\\' | '`';
}

export type Step =
  | {
      kind: 'config';
      config: ContainerConfig;
      /** docker's classic history text: `/bin/sh -c #(nop)  CMD ["a" "b"]`, `/bin/sh -c #(nop) WORKDIR /app`. */
      createdBy: string;
      /** WORKDIR: the absolute directory to create in the rootfs if missing (then the step has a layer). */
      mkdir?: string;
      emptyLayer: true;
      cmdSet?: boolean;
      /** MAINTAINER: the image's author. */
      author?: string;
    }
  | { kind: 'arg'; args: Record<string, string | undefined>; createdBy: string; emptyLayer: true }
  | {
      kind: 'run';
      argv: string[];
      /** The process env: config Env plus the build args in scope (those not overridden by Env). */
      env: string[];
      user: string; workdir: string;
      mounts: RunMount[];   // expanded
      network: 'default' | 'none' | 'host';
      heredocs: Heredoc[];  // as written; the shell expands them at run time
      /**
       * Files to put in place (read-only, outside the layer) before running: `RUN <<EOF` whose
       * body starts with `#!` runs as the script /dev/pipes/EOF (mode 0755), as buildkit does.
       */
      files?: { path: string; content: string; mode: number }[];
      /** `/bin/sh -c echo hi`, `|1 A=b /bin/sh -c …` as docker writes it. */
      createdBy: string;
      /** What keys the cache besides the parent: createdBy + env + mounts + network. */
      cacheText: string;
    }
  | {
      kind: 'copy';
      add: boolean;
      /** Expanded, context-relative (or relative to `from`'s root) paths/globs, or http(s) URLs (ADD). */
      sources: string[];
      /**
       * Absolute, expanded; ends in '/' when written as a directory (trailing '/', `.`). As in
       * docker, an existing directory at dest also receives the sources inside it.
       */
      dest: string;
      from?: string;
      chown?: string; chmod?: string; link: boolean; parents: boolean; exclude: string[];
      heredocs: Heredoc[];
      checksum?: string;
      /** The destination as written, expanded (history says `in .`). */
      destText: string;
      /** Expanded instruction text (`COPY --chown=1:1 app.js /w/`), keyed with the content checksum. */
      cacheText: string;
    };

export interface PlannedStage {
  stage: Stage;
  /** The FROM image after expansion with the global ARGs; 'scratch' or an image reference, or a stage index. */
  base: { image: string } | { stage: number };
  /** Stage indexes this stage needs first (base, COPY --from, RUN --mount from). */
  deps: number[];
  /**
   * COPY --from / RUN --mount from= values, keyed both as written and expanded (with the global
   * ARGs): a stage (by name, case-insensitive, or index) or else an image reference, which the
   * executor resolves or pulls; when that fails it reports `FILE:LINE: COPY --from=x: …`.
   */
  froms: Record<string, { stage: number } | { image: string }>;
  /** The global ARGs with their effective values, plus the automatic platform ARGs (TARGETARCH…). */
  globals: Record<string, string | undefined>;
  /** FROM --platform, expanded; only the host platform is accepted (else not_implemented). */
  platform?: string;
}

export interface BuildPlan {
  /** Only the stages the target needs, dependencies before dependents; the last one is the target. */
  stages: PlannedStage[];
  /** `[Warning] One or more build-args [X] were not consumed`, docker's text; empty when all used. */
  warnings: string[];
}

/** One entry a COPY would write (context side). */
export interface ContextEntry {
  /** Path relative to the context root (posix). */
  path: string;
  /** Path relative to the destination directory (or the destination file itself if ''). */
  rel: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number; uid: number; gid: number; size: number;
  linkTarget?: string;
  /** A file named by the instruction itself (not found inside a directory source): ADD may extract it. */
  source?: true;
}

export interface ResolvedCopy {
  /** The entries in a stable order (parents before children). */
  entries: ContextEntry[];
  /** true when dest is a directory (several sources, a directory source, a glob, or dest ends in '/'). */
  destIsDir: boolean;
  /** For the history text (copyCreatedBy): one file, one directory, or several sources. */
  sumKind: 'file' | 'dir' | 'multi';
}
