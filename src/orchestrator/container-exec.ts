// Run a command inside a running container (`docker exec`) and collect its
// output. This is how the orchestrator reads a peer's /status and probes the
// network: from inside the container, so no port is published and it works
// the same with a remote DOCKER_HOST.
import type { DockerClient } from './docker-client.ts';
import { dockerMessage } from './docker-client.ts';
import { demultiplex } from './docker-stream.ts';

export interface ExecResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export async function execInContainer(
  docker: Pick<DockerClient, 'getContainer'>,
  containerId: string,
  cmd: string[],
  timeoutMs: number,
): Promise<ExecResult> {
  const container = docker.getContainer(containerId);
  let timer: NodeJS.Timeout | undefined;
  let stream: NodeJS.ReadWriteStream | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const run = async (): Promise<ExecResult> => {
      const exec = await container
        .exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false })
        .catch((error: unknown) => {
          throw new Error(dockerMessage(error), { cause: error });
        });
      stream = await exec.start({ hijack: true, stdin: false });
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        stream!.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream!.on('end', resolve);
        stream!.on('close', resolve);
        stream!.on('error', reject);
      });
      const { stdout, stderr } = demultiplex(Buffer.concat(chunks));
      const info = await exec.inspect();
      return { exitCode: info.ExitCode ?? null, stdout, stderr };
    };
    return await Promise.race([run(), timeout]);
  } finally {
    clearTimeout(timer);
    // On a timeout the exec may still run; do not let its socket keep us alive.
    (stream as { destroy?: () => void } | undefined)?.destroy?.();
  }
}
