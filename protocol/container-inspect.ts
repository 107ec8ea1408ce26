/**
 * docker container inspect's shape (sbx container inspect, GET /v1/containers/:id/json and the
 * Docker API's /containers/{id}/json): the container, its configs as asked and as in force, its
 * networks and its mounts, field for field where docker has the field.
 */
import type { ContainerState, NetworkMode } from './containers.js';
import type { HealthState } from './health.js';
import type { HealthConfig } from './oci.js';
import type { FixedHostConfig } from './host-config.js';
import type { RestartPolicy } from './restart.js';
import type { ResourcesInspect } from './resources.js';
import type { RunConfigInspect, RunHostConfigInspect } from './run-options.js';

/** docker container inspect, field for field where docker has the field. */
export interface ContainerInspect {
  Id: string;
  Name: string;
  Created: string;
  Path: string;
  Args: string[];
  Image: string;
  State: {
    Status: ContainerState;
    Running: boolean;
    Paused: boolean;
    OOMKilled: boolean;
    Pid: number;
    ExitCode: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
    /** Waiting to be started again by its restart policy. */
    Restarting: boolean;
    Dead: boolean;
    /** Only for a container with a health check (docker's). */
    Health?: HealthState;
  };
  /** Restarts made by the restart policy since the user last started it. */
  RestartCount: number;
  /** The container's /etc files and log on the daemon's host; Driver = GraphDriver.Name ("" without a root file system). */
  ResolvConfPath: string; HostnamePath: string; HostsPath: string; LogPath: string;
  Driver: string; Platform: string; MountLabel: string; ProcessLabel: string; AppArmorProfile: string;
  /** Running exec sessions' ids (null when none, docker's). */
  ExecIDs: string[] | null;
  Config: {
    Image: string;
    Hostname: string;
    User: string;
    Env: string[];
    Cmd: string[];
    Entrypoint: string[] | null;
    WorkingDir: string;
    Tty: boolean;
    OpenStdin: boolean;
    Domainname: string; AttachStdin: boolean; AttachStdout: boolean; AttachStderr: boolean; StdinOnce: boolean;
    /** The image's VOLUMEs (null when none); OnBuild: the image's ONBUILD triggers (null when none). */
    Volumes: Record<string, object> | null; OnBuild: string[] | null;
    /** The health check in force (the request's over the image's); absent when none. */
    Healthcheck?: HealthConfig;
  } & RunConfigInspect;
  HostConfig: {
    /** null when unset, as docker's (pointers). */
    NetworkMode: NetworkMode; Memory: number; PidsLimit: number | null; Init: boolean | null; AutoRemove: boolean;
    RestartPolicy: RestartPolicy;
    /** docker's shape: "80/tcp" → [{HostIp, HostPort}] as requested (HostPort "": a free port). */
    PortBindings: Record<string, { HostIp: string; HostPort: string }[]>;
    Privileged: boolean;
    /** Normalized names (CAP_NET_ADMIN, ALL); null when none, as docker shows it. */
    CapAdd: string[] | null;
    CapDrop: string[] | null;
    Devices: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[];
    /** The --security-opt values as given; null when none (docker's). */
    SecurityOpt: string[] | null;
    ExtraHosts: string[] | null;
    Dns: string[]; DnsSearch: string[]; DnsOptions: string[];
    /** The -v strings as given; null when none (docker's). */
    Binds: string[] | null;
    /** The --mount values; absent when none (docker's). */
    Mounts?: { Type: string; Source: string; Target: string; ReadOnly: boolean; TmpfsOptions?: { SizeBytes?: number; Mode?: number } }[];
    /** --tmpfs: path → options as given; absent when none (docker's). */
    Tmpfs?: Record<string, string>;
    /** --volumes-from as given; null when none (docker's). */
    VolumesFrom: string[] | null;
    /** -P as given. */
    PublishAllPorts: boolean;
    /** [rows, cols] of the terminal asked for at create ([0, 0]: none). */
    ConsoleSize: [number, number];
  } & RunHostConfigInspect & ResourcesInspect & FixedHostConfig;
  NetworkSettings: {
    Bridge: string; SandboxID: string; SandboxKey: string; EndpointID: string;
    IPAddress: string; IPPrefixLen: number; Gateway: string; MacAddress: string;
    /** docker's shape: "80/tcp" → [{HostIp, HostPort}] (null: exposed, not published). */
    Ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
    Networks: Record<string, EndpointSettings>;
  };
  /** Every mount the container has, as docker shows them. */
  Mounts: MountPoint[];
  GraphDriver?: { Name: string; Data: Record<string, string> };
}

/** One network of a running container (docker's NetworkSettings.Networks values). */
export interface EndpointSettings {
  NetworkID: string; IPAddress: string; IPPrefixLen: number; Gateway: string; MacAddress: string; Aliases: string[] | null;
  EndpointID: string; IPAMConfig: null; Links: null; DNSNames: string[] | null;
}

/** One entry of docker inspect's Mounts. */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** The volume's name (volumes only). */
  Name?: string;
  /** The host path (a volume's _data directory). */
  Source: string;
  Destination: string;
  Driver?: 'local';
  /** docker's mode text: "" for binds unless -v said ro/rw, "z" for volumes from -v. */
  Mode: string;
  RW: boolean;
  Propagation: string;
}
