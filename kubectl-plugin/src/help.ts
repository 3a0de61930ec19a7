/** Help text shared by every command. */
import {
  ENV_FROM_PASSWORD,
  ENV_NEW_PASSWORD,
  ENV_PASSWORD,
  ENV_PASSWORD_FILE,
  ENV_REPOSITORY,
  ENV_TO_PASSWORD,
} from './config.js';
import { ENV_CONFIG } from './config-file.js';

const ENVIRONMENT: Array<[string, string]> = [
  [ENV_REPOSITORY, 'repository URL when --repo is not given'],
  [ENV_PASSWORD, 'repository password when --password-file is not given'],
  [ENV_PASSWORD_FILE, `file holding the repository password, when neither of the above is given`],
  [ENV_CONFIG, 'configuration file (default ~/.config/kubectl-backup/config.yaml)'],
  [ENV_NEW_PASSWORD, 'new password for "repo key add" and "repo key passwd"'],
  [ENV_TO_PASSWORD, 'destination password for "repo copy"'],
  [ENV_FROM_PASSWORD, 'password of "repo init --from-repo"'],
  ['AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, AWS_REGION', ''],
  ['', 'S3 credentials and region (never put credentials in the URL)'],
];

const WIDTH =
  Math.max(...ENVIRONMENT.filter(([name, what]) => name && what).map(([n]) => n.length)) + 2;

export const ENVIRONMENT_HELP = `
Repository URLs:
  /path/to/repo or file:///path/to/repo    a local directory
  s3://bucket/prefix?endpoint=URL&region=R&forcePathStyle=true
                                           S3 or S3-compatible (MinIO, B2, Ceph…); all parameters optional
  default (no --repo, no ${ENV_REPOSITORY}): ~/.local/share/kubectl-backup/repository
    ($XDG_DATA_HOME/kubectl-backup/repository when XDG_DATA_HOME is set)

Configuration file (~/.config/kubectl-backup/config.yaml, or $XDG_CONFIG_HOME/…), used when
neither a flag nor the environment says otherwise:
  repository: s3://backups/prod?region=eu-west-1     # or a path, relative to the file
  passwordFile: ~/.config/kubectl-backup/password     # the password itself never goes there
  rpo: 24h                                            # backups older than this are stale

Environment:
${ENVIRONMENT.map(([name, what]) => `  ${what ? name.padEnd(WIDTH) : name}${what}`.trimEnd()).join('\n')}
Without a password flag or variable, the password is asked on the terminal (without echo);
with no terminal the command fails. Exit codes: 0 success, 1 failure, 2 usage error,
130 interrupted.
`;
