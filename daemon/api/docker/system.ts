/** `/_ping`, `/version`, `/info`: what a docker client asks first (version negotiation, `docker version`, `docker info`). */
import { arch, cpus, hostname, platform, release, totalmem } from 'node:os';
import type { Services } from '../../services.js';
import { SBX_VERSION } from '../system.js';
import { DOCKER_API_VERSION, DOCKER_MIN_API_VERSION, type DockerRouter } from './http.js';

/** docker's names for Node's architectures (GOARCH in /version, uname -m in /info). */
const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };
const UNAME: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i686' };
/** containerd, runc and docker-init are not sbx's parts: no commit to report. */
const NO_COMMIT = { ID: '', Expected: '' };

export function registerDockerSystem(r: DockerRouter, s: Services): void {
  const pingHeaders = { 'docker-experimental': 'false', ostype: 'linux', 'cache-control': 'no-cache, no-store, must-revalidate', pragma: 'no-cache' };
  r.on(['GET', 'HEAD'], '/_ping', async () => ({ text: 'OK', headers: pingHeaders }));

  r.on('GET', '/version', async () => {
    const details = {
      ApiVersion: DOCKER_API_VERSION, MinAPIVersion: DOCKER_MIN_API_VERSION, GitCommit: '', GoVersion: `node ${process.version}`,
      Os: platform(), Arch: GOARCH[arch()] ?? arch(), KernelVersion: release(), BuildTime: '',
    };
    return {
      json: {
        Platform: { Name: 'sbx' },
        Components: [{ Name: 'Engine', Version: SBX_VERSION, Details: { ...details, Experimental: 'false' } }],
        Version: SBX_VERSION, ...details,
      },
    };
  });

  r.on('GET', '/info', async () => {
    const m = s.containers;
    const states = m.ids().map((id) => m.get(id).state);
    const running = states.filter((st) => st.status === 'running' && !st.paused).length;
    const paused = states.filter((st) => st.status === 'running' && st.paused).length;
    const images = await s.images.list();
    return {
      json: {
        ID: '', Name: hostname(), ServerVersion: SBX_VERSION,
        Containers: states.length, ContainersRunning: running, ContainersPaused: paused, ContainersStopped: states.length - running - paused,
        Images: images.length, Driver: s.snapshotter.driver, DriverStatus: [], DockerRootDir: s.config.root,
        Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'none'], Authorization: null, Log: [] },
        MemoryLimit: true, SwapLimit: false, KernelMemory: false, KernelMemoryTCP: false, CpuCfsPeriod: false, CpuCfsQuota: false, CPUShares: false, CPUSet: false,
        PidsLimit: true, IPv4Forwarding: true, BridgeNfIptables: false, BridgeNfIp6tables: false, Debug: false, OomKillDisable: false,
        NFd: 0, NGoroutines: 0, SystemTime: new Date().toISOString(), LoggingDriver: 'sbx', CgroupDriver: 'cgroupfs', CgroupVersion: '1',
        NEventsListener: 0, KernelVersion: release(), OperatingSystem: 'sbx', OSVersion: '', OSType: 'linux', Architecture: UNAME[arch()] ?? arch(),
        IndexServerAddress: 'https://index.docker.io/v1/',
        RegistryConfig: { AllowNondistributableArtifactsCIDRs: [], AllowNondistributableArtifactsHostnames: [], InsecureRegistryCIDRs: [], IndexConfigs: {}, Mirrors: [] },
        NCPU: cpus().length, MemTotal: totalmem(), GenericResources: null, HttpProxy: '', HttpsProxy: '', NoProxy: '', Labels: [], ExperimentalBuild: false,
        Runtimes: { sbx: { path: 'unshare' } }, DefaultRuntime: 'sbx', Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
        LiveRestoreEnabled: false, Isolation: '', InitBinary: 'tini',
        ContainerdCommit: NO_COMMIT, RuncCommit: NO_COMMIT, InitCommit: NO_COMMIT, SecurityOptions: ['name=seccomp,profile=default', 'name=no-new-privileges'], Warnings: null,
      },
    };
  });
}
