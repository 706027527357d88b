// The project image, built once per test process from the real Dockerfile with
// testcontainers. Layers are cached by the engine, so later builds are quick.
import { fileURLToPath } from 'node:url';
import { GenericContainer } from 'testcontainers';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * Tag of the image the integration tests run. ENCLAVE_ELECT_TEST_IMAGE lets
 * several work trees on one engine test their own builds side by side.
 */
export const TEST_IMAGE = process.env.ENCLAVE_ELECT_TEST_IMAGE ?? 'enclave-elect:itest';

let built: Promise<GenericContainer> | undefined;

/** Build (once) and return a container definition for the project image. */
export function buildProjectImage(): Promise<GenericContainer> {
  built ??= GenericContainer.fromDockerfile(PROJECT_ROOT)
    .withBuildArgs({ VERSION: 'itest' })
    .build(TEST_IMAGE, { deleteOnExit: false });
  return built;
}
