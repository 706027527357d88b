// Coded errors for the whole project. Callers match on `code`, never on the
// message; messages say what was wrong and what to do about it.
// docs/errors.md lists the codes.

export type ErrorCode =
  | 'E_USAGE'
  | 'E_CONFIG'
  | 'E_DOCKER_UNAVAILABLE'
  | 'E_IMAGE_MISSING'
  | 'E_NOT_FOUND'
  | 'E_CONFLICT'
  | 'E_TIMEOUT'
  | 'E_HEALTHCHECK'
  | (string & {});

export class EnclaveElectError extends Error {
  readonly code: ErrorCode;
  /** Exit status a CLI should end with when this error reaches the top. */
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** A bad flag, option or argument: exit status 2. */
export class UsageError extends EnclaveElectError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('E_USAGE', message, { ...options, exitCode: 2 });
  }
}

/** An invalid setting (flag or environment variable) detected when validating config. */
export class ConfigError extends EnclaveElectError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('E_CONFIG', `invalid ${option}: ${message}`, { exitCode: 2 });
    this.option = option;
  }
}

export function isCoded(error: unknown, code: ErrorCode): error is EnclaveElectError {
  return error instanceof EnclaveElectError && error.code === code;
}
