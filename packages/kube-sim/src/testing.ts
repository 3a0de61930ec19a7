/**
 * Helpers for tests that drive kube-sim with real clients: start a simulator in a temporary
 * directory on a free port, run a kubectl binary against it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeSim, type KubeSimOptions, type RunningKubeSim } from './sim.js';

export const KUBECTL_DIR = '/usr/lib/google-cloud-sdk/bin';

/** kubectl binaries to test with (those present on the machine). */
export function kubectlBinaries(versions = ['1.27', '1.33']): Array<{ version: string; path: string }> {
  return versions.map((version) => ({ version, path: join(KUBECTL_DIR, `kubectl.${version}`) })).filter((k) => existsSync(k.path));
}

export interface TestSim extends RunningKubeSim {
  dir: string;
  /** Runs kubectl (admin context unless `--context` is given); never throws. */
  kubectl(args: string[], options?: { binary?: string; input?: string }): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stops the simulator and removes its directory. */
  dispose(): Promise<void>;
}

export async function startTestSim(options: Partial<KubeSimOptions> = {}): Promise<TestSim> {
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'kube-sim-test-'));
  const sim = await KubeSim.start({ port: 0, ...options, dataDir: dir });
  const home = join(dir, 'home');
  const kubectl: TestSim['kubectl'] = (args, opts = {}) =>
    new Promise((resolve) => {
      const child = execFile(
        opts.binary ?? join(KUBECTL_DIR, 'kubectl'),
        args,
        { env: { ...process.env, KUBECONFIG: sim.kubeconfigPath, HOME: home, KUBECACHEDIR: join(home, 'cache') }, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  return {
    ...sim,
    dir,
    kubectl,
    dispose: async () => {
      await sim.stop();
      if (!options.dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
