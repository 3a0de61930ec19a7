/** The new password of `key add` and `key passwd`. */
import { ENV_NEW_PASSWORD, readSecret } from '../../config.js';
import type { CliIO } from '../../io.js';

export interface NewPasswordFlags {
  newPasswordFile?: string;
}

export const NEW_PASSWORD_FLAG = [
  '--new-password-file <file>',
  `read the new password from a file (default: $${ENV_NEW_PASSWORD}, else prompt twice)`,
] as const;

export function newPassword(io: CliIO, flags: NewPasswordFlags): Promise<string> {
  return readSecret(io, {
    file: flags.newPasswordFile,
    envVar: ENV_NEW_PASSWORD,
    flag: '--new-password-file',
    what: 'new password',
    confirm: true,
  });
}
