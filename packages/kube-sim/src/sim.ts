/** Starting and stopping a kube-sim API server in-process. */
import { createServer, type Server } from 'node:https';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import type { Controller, SimContext } from './store-api.js';
import { Registry, defaultDataRoot } from './discovery/registry.js';
import { Store } from './store/store.js';
import { defaultHooks } from './store/defaults.js';
import { bootstrap } from './store/bootstrap.js';
import { loadOrCreatePki } from './auth/pki.js';
import { Authenticator, kubeconfigYaml, loadOrCreateTokenKey, loadOrCreateUsers, type SimUser } from './auth/users.js';
import { Authorizer } from './auth/rbac.js';
import { FailureInjector } from './failures.js';
import { ApiServer, KUBE_VERSION, type ExecHandler } from './server/server.js';
import { seedDirectory, type SeedResult } from './seed.js';
import { createControllers } from './controllers/index.js';

export interface KubeSimOptions {
  /** Where state, certificates, tokens and PV directories live (kept across restarts). */
  dataDir: string;
  /** Port to listen on; 0 or omitted picks a free port. */
  port?: number;
  host?: string;
  /** Apply every manifest under this folder before start() resolves. */
  seedDir?: string;
  /** Where to write the kubeconfig (default: DATADIR/kubeconfig). */
  kubeconfigPath?: string;
  /** Start the workload/volume/snapshot controllers (default true). */
  controllers?: boolean;
  /** Name of the single node (default `kube-sim-node`). */
  nodeName?: string;
}

export interface RunningKubeSim {
  url: string;
  port: number;
  kubeconfigPath: string;
  caPath: string;
  /** Bearer tokens by user name (admin, dev, viewer). */
  tokens: Record<string, string>;
  users: SimUser[];
  store: Store;
  registry: Registry;
  failures: FailureInjector;
  ctx: SimContext;
  /** Applies every manifest under `dir` (see seedDirectory). */
  seed(dir: string, namespace?: string): SeedResult;
  /** Flushes state to disk without stopping. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

// resolved at run time so that the core builds before src/exec exists (the controllers
// engineer owns it; until then exec answers 501)
const EXEC_MODULE = './exec/index.js';
async function loadExecHandler(): Promise<ExecHandler | undefined> {
  try {
    const mod = (await import(EXEC_MODULE)) as { handleExecUpgrade?: ExecHandler };
    return mod.handleExecUpgrade;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

export class KubeSim {
  static async start(options: KubeSimOptions): Promise<RunningKubeSim> {
    const dataDir = resolve(options.dataDir);
    const host = options.host ?? '127.0.0.1';
    const nodeName = options.nodeName ?? 'kube-sim-node';
    mkdirSync(dataDir, { recursive: true });
    const dataRoot = defaultDataRoot();
    const registry = new Registry(dataRoot);
    const pki = await loadOrCreatePki(join(dataDir, 'pki'));
    const users = loadOrCreateUsers(dataDir);
    const store = new Store(registry, join(dataDir, 'state'));
    const authn = new Authenticator(users, loadOrCreateTokenKey(dataDir), (ns, name) => !!store.peek({ group: '', version: 'v1', resource: 'serviceaccounts' }, ns, name));
    store.hooks.push(defaultHooks({ caCert: pki.caCert, serviceAccountToken: (ns, name) => authn.serviceAccountToken(ns, name) }));
    store.load();
    bootstrap(store, { dataRoot, nodeName, kubeletVersion: KUBE_VERSION.gitVersion });
    const authz = new Authorizer(store);
    const stopAggregation = authz.startAggregation();
    const failures = new FailureInjector();
    const ctx: SimContext = { store, dataDir, nodeName, controllersPaused: () => failures.controllersPaused() };
    let execHandler: Promise<ExecHandler | undefined> | undefined;
    let address = '';
    const api = new ApiServer({
      registry,
      store,
      authn,
      authz,
      failures,
      ctx,
      execHandler: () => (execHandler ??= loadExecHandler()),
      address: () => address,
    });
    const server: Server = createServer({ key: pki.serverKey, cert: pki.serverCert }, api.handle);
    server.on('upgrade', api.handleUpgrade);
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', rej);
        res();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    address = `${urlHost}:${port}`;
    const url = `https://${address}`;
    const kubeconfigPath = resolve(options.kubeconfigPath ?? join(dataDir, 'kubeconfig'));
    mkdirSync(dirname(kubeconfigPath), { recursive: true });
    writeFileSync(kubeconfigPath, kubeconfigYaml(url, pki.caCert, users), { mode: 0o600 });

    const seed = (dir: string, namespace?: string) => seedDirectory(store, dir, { namespace });
    if (options.seedDir) seed(options.seedDir);

    const controllers: Controller[] = options.controllers === false ? [] : createControllers();
    for (const c of controllers) c.start(ctx);

    let stopped: Promise<void> | undefined;
    const stop = () =>
      (stopped ??= (async () => {
        for (const c of controllers) {
          try {
            c.stop();
          } catch (err) {
            console.error(`kube-sim: stopping controller ${c.name} failed:`, err);
          }
        }
        stopAggregation();
        await new Promise<void>((res) => {
          server.close(() => res());
          server.closeAllConnections();
        });
        await store.settle();
        await store.close();
      })());
    return {
      url,
      port,
      kubeconfigPath,
      caPath: pki.caPath,
      tokens: Object.fromEntries(users.map((u) => [u.name, u.token])),
      users,
      store,
      registry,
      failures,
      ctx,
      seed,
      flush: () => store.flush(),
      stop,
    };
  }
}
