// The project image a cluster runs: used as it is when present, built from the
// project's Dockerfile when asked (--build) or missing. The build goes through
// the `docker build` client (it honours .dockerignore and DOCKER_HOST exactly as
// people's own builds do), streaming its output to stderr.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EnclaveElectError } from '../errors.ts';
import { existsSync } from '../platform/node-fs.ts';
import { type DockerClient, dockerStatus } from './docker-client.ts';

export const DEFAULT_IMAGE = 'enclave-elect:local';
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type ImageBuilder = (
  image: string,
  context: string,
  progress: (line: string) => void,
) => Promise<void>;

const dockerCliBuild: ImageBuilder = (image, context, progress) =>
  new Promise((resolve, reject) => {
    const child = spawn('docker', ['build', '-t', image, context], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const forward = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-2000);
      for (const line of text.split('\n')) if (line.trim() !== '') progress(`  build: ${line}`);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.on('error', (error) =>
      reject(
        new EnclaveElectError(
          'E_IMAGE_BUILD',
          `could not run \`docker build\` (${(error as NodeJS.ErrnoException).code ?? error.message}); build the image yourself: docker build -t ${image} ${context}`,
          { cause: error },
        ),
      ),
    );
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(
            new EnclaveElectError(
              'E_IMAGE_BUILD',
              `docker build -t ${image} failed (exit ${code}):\n${tail.trim()}`,
            ),
          ),
    );
  });

async function imageExists(docker: Pick<DockerClient, 'getImage'>, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (error) {
    if (dockerStatus(error) === 404) return false;
    throw error;
  }
}

export async function ensureImage(
  docker: Pick<DockerClient, 'getImage'>,
  image: string,
  options: { build: boolean; progress: (line: string) => void; builder?: ImageBuilder; context?: string },
): Promise<'present' | 'built'> {
  const present = await imageExists(docker, image);
  if (present && !options.build) return 'present';
  const context = options.context ?? PROJECT_ROOT;
  if (!existsSync(`${context}/Dockerfile`)) {
    throw new EnclaveElectError(
      'E_IMAGE_MISSING',
      `image ${image} is ${present ? 'there, but --build was asked' : 'missing'} and there is no Dockerfile at ${context} to build it from. Build or load it (docker build -t ${image} .), or pass --image.`,
    );
  }
  options.progress(`${present ? 'rebuilding' : `image ${image} is missing; building`} it from ${context}`);
  await (options.builder ?? dockerCliBuild)(image, context, options.progress);
  if (!(await imageExists(docker, image))) {
    throw new EnclaveElectError(
      'E_IMAGE_MISSING',
      `docker build finished but image ${image} is still missing`,
    );
  }
  return 'built';
}
