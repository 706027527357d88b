// Which way a peer's /status is read: `http` from the host at the container's
// address (no process started), `exec` inside the container (works with any
// engine), or `auto`: http when the engine is local, else exec, and exec for a
// container the host has no way to. Every command gets its reader here.

import { directStatusReader } from './direct-status-reader.ts';
import type { DockerClient } from './docker-client.ts';
import { execStatusReader, type StatusReader } from './peer-status.ts';

export const STATUS_VIA = ['auto', 'exec', 'http'] as const;
export type StatusVia = (typeof STATUS_VIA)[number];

/** Whether containers run on this machine: DOCKER_HOST unset or a unix socket (tcp://, ssh:// are remote). */
export function engineIsLocal(dockerHost: string | undefined): boolean {
  return dockerHost === undefined || dockerHost === '' || dockerHost.startsWith('unix://');
}

export interface StatusReaderChoice {
  /** Where DOCKER_HOST is read (tests pass their own). */
  env?: NodeJS.ProcessEnv;
  /** The peers' admin port (default ADMIN_PORT). */
  port?: number;
  /** Told once per container when auto mode reads it by exec after all, and why. */
  note?: (line: string) => void;
}

export function statusReaderFor(
  docker: Pick<DockerClient, 'getContainer'>,
  via: StatusVia = 'auto',
  options: StatusReaderChoice = {},
): StatusReader {
  const port = options.port === undefined ? {} : { port: options.port };
  const exec = execStatusReader(docker, port);
  if (via === 'exec') return exec;
  if (via === 'http') return directStatusReader(docker, port);
  if (!engineIsLocal((options.env ?? process.env).DOCKER_HOST)) return exec;
  const note = options.note === undefined ? {} : { note: options.note };
  return directStatusReader(docker, { ...port, ...note, fallback: exec });
}
