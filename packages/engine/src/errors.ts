/**
 * Named errors of the engine. Callers test with `instanceof` or the `code` field; the CLI maps
 * them to messages a person understands. Messages never contain credentials.
 */
export class EngineError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A storage object does not exist. */
export class NotFoundError extends EngineError {
  constructor(key: string, options?: { cause?: unknown }) {
    super('ENOTFOUND', `object not found: ${key}`, options);
  }
}

/** The storage refused a write because it is opened read-only. */
export class ReadOnlyError extends EngineError {
  constructor(operation: string) {
    super('EREADONLY', `repository storage is read-only: ${operation} refused`);
  }
}

/** No key of the repository opens with the given password. */
export class WrongPasswordError extends EngineError {
  constructor() {
    super('EPASSWORD', 'wrong password: no key of this repository opens with it');
  }
}

/** Stored bytes failed authentication or do not match their id: corruption or tampering. */
export class IntegrityError extends EngineError {
  constructor(what: string, options?: { cause?: unknown }) {
    super('EINTEGRITY', `integrity check failed: ${what}`, options);
  }
}

/** A lock held by someone else prevents the operation. */
export class LockedError extends EngineError {
  constructor(message: string) {
    super('ELOCKED', message);
  }
}

/** The location holds no repository, or something that is not one. */
export class NoRepositoryError extends EngineError {
  constructor(location: string) {
    super('ENOREPO', `no repository at ${location} (run "kubectl backup repo init" first)`);
  }
}

/** Caller error: bad argument, unknown snapshot, ambiguous prefix… */
export class UsageError extends EngineError {
  constructor(message: string) {
    super('EUSAGE', message);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof NotFoundError;
}
