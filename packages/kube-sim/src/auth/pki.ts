/** A generated certificate authority and server certificate, kept in dataDir/pki. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface Pki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  caPath: string;
}

export async function loadOrCreatePki(dir: string): Promise<Pki> {
  mkdirSync(dir, { recursive: true });
  const files = { caCert: 'ca.crt', caKey: 'ca.key', serverCert: 'server.crt', serverKey: 'server.key' };
  const caPath = join(dir, files.caCert);
  if (Object.values(files).every((f) => existsSync(join(dir, f)))) {
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return { caCert: read(files.caCert), caKey: read(files.caKey), serverCert: read(files.serverCert), serverKey: read(files.serverKey), caPath };
  }
  const tenYears = new Date(Date.now() + 10 * 365 * 24 * 3600 * 1000);
  const ca = await generate([{ name: 'commonName', value: 'kube-sim-ca' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: tenYears,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'kube-apiserver' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: tenYears,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 2, value: 'kubernetes' },
          { type: 2, value: 'kubernetes.default' },
          { type: 2, value: 'kubernetes.default.svc' },
          { type: 2, value: 'kubernetes.default.svc.cluster.local' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          { type: 7, ip: '10.96.0.1' },
        ],
      },
    ],
  });
  const pki: Pki = { caCert: ca.cert, caKey: ca.private, serverCert: server.cert, serverKey: server.private, caPath };
  writeFileSync(join(dir, files.caKey), pki.caKey, { mode: 0o600 });
  writeFileSync(join(dir, files.serverKey), pki.serverKey, { mode: 0o600 });
  writeFileSync(join(dir, files.serverCert), pki.serverCert);
  writeFileSync(caPath, pki.caCert);
  return pki;
}
