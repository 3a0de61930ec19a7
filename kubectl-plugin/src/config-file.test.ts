/** The configuration file: flags > environment > config.yaml > defaults, and its errors. */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from './config-file.js';
import { runInProcess } from './test-util/cli.js';

describe('config.yaml', () => {
  let dir: string;
  let configDir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kb-config-file-'));
    configDir = path.join(dir, '.config', 'kubectl-backup');
    await mkdir(configDir, { recursive: true });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const env = (extra: Record<string, string> = {}) => ({
    HOME: dir,
    KUBECTL_BACKUP_TEST_SCRYPT: 'fast',
    ...extra,
  });
  const writeConfig = (text: string) => writeFile(path.join(configDir, 'config.yaml'), text);
  const run = (args: string[], extra: Record<string, string> = {}) =>
    runInProcess(args, { env: env(extra), cwd: dir });

  it('gives the repository and the password file when flags and environment do not', async () => {
    await writeFile(path.join(configDir, 'password'), 'from-config\n');
    await chmod(path.join(configDir, 'password'), 0o600);
    await writeConfig(
      'repository: ../../repos/main\npasswordFile: ~/.config/kubectl-backup/password\n',
    );
    const init = await run(['repo', 'init']);
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).toBe('');
    expect(init.stdout).toContain(`at ${path.join(dir, 'repos', 'main')}`);

    // the password from the file opens it; the environment's password wins over the file
    expect((await run(['repo', 'snapshots', '-o', 'json'])).stdout).toBe('[]\n');
    const wrong = await run(['repo', 'snapshots'], { KUBECTL_BACKUP_PASSWORD: 'other' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error: wrong password/);
    // KUBECTL_BACKUP_PASSWORD_FILE wins over the config file
    await writeFile(path.join(dir, 'pw2'), 'nope');
    const viaEnvFile = await run(['repo', 'snapshots'], {
      KUBECTL_BACKUP_PASSWORD_FILE: path.join(dir, 'pw2'),
    });
    expect(viaEnvFile.stderr).toMatch(/^error: wrong password/);
    // --repo wins over the config file
    const other = await run(['repo', 'snapshots', '--repo', 'elsewhere']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('no repository');
  });

  it('KUBECTL_BACKUP_CONFIG names another file; XDG_CONFIG_HOME moves the default', async () => {
    const alt = path.join(dir, 'alt.yaml');
    await writeFile(alt, 'repository: s3://bucket/prefix?region=eu-west-1\nrpo: 12h\n');
    expect(loadConfigFile({ env: { HOME: dir, KUBECTL_BACKUP_CONFIG: alt }, cwd: dir })).toEqual({
      path: alt,
      repository: 's3://bucket/prefix?region=eu-west-1',
      rpo: '12h',
    });
    await mkdir(path.join(dir, 'xdg', 'kubectl-backup'), { recursive: true });
    await writeFile(path.join(dir, 'xdg', 'kubectl-backup', 'config.yaml'), 'rpo: 1h\n');
    expect(
      loadConfigFile({ env: { HOME: dir, XDG_CONFIG_HOME: path.join(dir, 'xdg') }, cwd: dir })?.rpo,
    ).toBe('1h');
    expect(loadConfigFile({ env: { HOME: path.join(dir, 'none') }, cwd: dir })).toBeUndefined();
    const missing = await run(['repo', 'snapshots'], { KUBECTL_BACKUP_CONFIG: 'missing.yaml' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `error: cannot read the configuration file ${path.join(dir, 'missing.yaml')}: ENOENT\n`,
    );
  });

  it('refuses unknown keys, wrong types, bad YAML and a password in the file', async () => {
    const file = path.join(configDir, 'config.yaml');
    const cases: Array<[string, string]> = [
      [
        'repo: /x\n',
        `error: ${file}: unknown key "repo" (known keys: repository, passwordFile, rpo)\n`,
      ],
      ['repository: 3\n', `error: ${file}: "repository" must be a non-empty string\n`],
      ['- a\n- b\n', `error: ${file} must be a mapping of keys (repository, passwordFile, rpo)\n`],
      [
        'password: hunter2\n',
        `error: ${file}: a password is never kept in the configuration file; put it in a file readable only by you and name it with "passwordFile"\n`,
      ],
    ];
    for (const [text, message] of cases) {
      await writeConfig(text);
      const r = await run(['repo', 'snapshots'], { KUBECTL_BACKUP_PASSWORD: 'pw' });
      expect(r.code, text).toBe(1);
      expect(r.stderr).toBe(message);
      expect(r.stderr + r.stdout).not.toContain('hunter2');
    }
    await writeConfig('repository: [unclosed\n');
    const bad = await run(['repo', 'snapshots'], { KUBECTL_BACKUP_PASSWORD: 'pw' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(new RegExp(`^error: ${file} is not valid YAML: `));
    expect(bad.stderr.split('\n')).toHaveLength(2);
  });
});
