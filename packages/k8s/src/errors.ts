/**
 * Typed errors of the k8s library. Callers test `code`; messages are meant for a person and never
 * contain credentials (tokens, certificates, passwords).
 */
export type K8sErrorCode =
  | 'EUNREACHABLE'
  | 'ENOCONTEXT'
  | 'ENONAMESPACE'
  | 'EFORBIDDEN'
  | 'EUNAUTHORIZED'
  | 'ENOTFOUND'
  | 'EALREADYEXISTS'
  | 'ECONFLICT'
  | 'EINVALID'
  | 'ETIMEOUT'
  | 'EABORTED'
  | 'EUSAGE'
  | 'EEXISTS'
  | 'EWARNINGS'
  | 'EHOOK'
  | 'EAPI';

/** A permission the caller lacks: `kubectl auth can-i <verb> <resource>[.<group>] [-n <namespace>]`. */
export interface Permission {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
}

export interface K8sErrorDetails {
  /** HTTP status of the API answer, when there was one. */
  status?: number;
  /** The Status reason (`Forbidden`, `NotFound`, `AlreadyExists`…). */
  reason?: string;
  verb?: string;
  group?: string;
  resource?: string;
  namespace?: string;
  name?: string;
  /** Permissions found missing before anything was changed (restore preflight). */
  missing?: Permission[];
  cause?: unknown;
}

export class K8sError extends Error {
  readonly code: K8sErrorCode;
  readonly status?: number;
  readonly reason?: string;
  readonly verb?: string;
  readonly group?: string;
  readonly resource?: string;
  readonly namespace?: string;
  readonly objectName?: string;
  readonly missing?: Permission[];

  constructor(code: K8sErrorCode, message: string, details: K8sErrorDetails = {}) {
    super(message, details.cause !== undefined ? { cause: details.cause } : undefined);
    this.name = 'K8sError';
    this.code = code;
    this.status = details.status;
    this.reason = details.reason;
    this.verb = details.verb;
    this.group = details.group;
    this.resource = details.resource;
    this.namespace = details.namespace;
    this.objectName = details.name;
    this.missing = details.missing;
  }
}

export function isK8sError(err: unknown, code?: K8sErrorCode): err is K8sError {
  return err instanceof K8sError && (code === undefined || err.code === code);
}

/** `deployments.apps` / `configmaps`: how kubectl names a resource. */
export function qualifiedResource(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

/** The `kubectl auth can-i` command that checks one permission. */
export function canICommand(p: Permission): string {
  return `kubectl auth can-i ${p.verb} ${qualifiedResource(p.resource, p.group)}${p.namespace ? ` -n ${p.namespace}` : ''}`;
}

export interface RequestDescription {
  verb: string;
  group?: string;
  resource?: string;
  namespace?: string;
  name?: string;
}

interface StatusBody {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
}

function describeTarget(r: RequestDescription): string {
  const res = r.resource ? qualifiedResource(r.resource, r.group ?? '') : 'the API';
  const named = r.name ? `${res} "${r.name}"` : res;
  return r.namespace ? `${named} in namespace "${r.namespace}"` : named;
}

/** Translates an HTTP answer (status + body) into a K8sError naming what was asked. */
export function errorFromStatus(status: number, body: unknown, req: RequestDescription): K8sError {
  const s: StatusBody = typeof body === 'object' && body !== null ? (body as StatusBody) : {};
  const serverMessage = s.message ?? (typeof body === 'string' && body.length < 500 ? body : '');
  const details: K8sErrorDetails = {
    status,
    reason: s.reason,
    verb: req.verb,
    group: req.group,
    resource: req.resource,
    namespace: req.namespace,
    name: req.name,
  };
  const target = describeTarget(req);
  const suffix = serverMessage ? `: ${serverMessage}` : '';
  switch (status) {
    case 401:
      return new K8sError('EUNAUTHORIZED', `the cluster did not accept the credentials of the kubeconfig user (401 Unauthorized)${suffix}`, details);
    case 403: {
      const perm: Permission = { verb: req.verb, group: req.group ?? '', resource: req.resource ?? '', namespace: req.namespace };
      const hint = req.resource ? `; check with \`${canICommand(perm)}\`` : '';
      return new K8sError('EFORBIDDEN', `forbidden: cannot ${req.verb} ${target}${hint}${suffix ? ` (server said${suffix})` : ''}`, details);
    }
    case 404:
      return new K8sError('ENOTFOUND', `not found: ${target}${suffix}`, details);
    case 409:
      return s.reason === 'AlreadyExists'
        ? new K8sError('EALREADYEXISTS', `already exists: ${target}`, details)
        : new K8sError('ECONFLICT', `conflict on ${target}${suffix}`, details);
    case 422:
    case 400:
      return new K8sError('EINVALID', `the API server rejected ${req.verb} ${target}${suffix}`, details);
    case 504:
      return new K8sError('ETIMEOUT', `the API server timed out on ${req.verb} ${target}${suffix}`, details);
    default:
      return new K8sError('EAPI', `${req.verb} ${target} failed with HTTP ${status}${suffix}`, details);
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ETIMEDOUT',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Any error from a request (ours, client-node's ApiException, Node's network errors) as a
 * K8sError. `server` names the cluster in EUNREACHABLE messages.
 */
export function translateError(err: unknown, req: RequestDescription = { verb: 'call' }, server?: string): K8sError {
  if (err instanceof K8sError) return err;
  const e = err as { code?: unknown; body?: unknown; name?: string; message?: string; cause?: unknown };
  // client-node 1.x ApiException: numeric `code` (HTTP status) and a string or object `body`
  if (typeof e?.code === 'number' && e.code >= 400) {
    let body = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // keep the text
      }
    }
    return errorFromStatus(e.code, body, req);
  }
  if (e?.name === 'AbortError') return new K8sError('EABORTED', 'the operation was cancelled', { cause: err });
  const netCode = typeof e?.code === 'string' ? e.code : typeof (e?.cause as { code?: unknown })?.code === 'string' ? String((e.cause as { code: string }).code) : '';
  if (NETWORK_CODES.has(netCode)) {
    const where = server ? ` at ${server}` : '';
    const tls = netCode.includes('CERT') || netCode.includes('SIGNED') || netCode.includes('VERIFY');
    return new K8sError(
      'EUNREACHABLE',
      tls
        ? `cannot reach the cluster${where}: its TLS certificate is not trusted (${netCode}); check certificate-authority in the kubeconfig`
        : `cannot reach the cluster${where} (${netCode}); is it running, and is the kubeconfig's server address right?`,
      { cause: err },
    );
  }
  return new K8sError('EAPI', `${req.verb} ${describeTarget(req)} failed: ${e?.message ?? String(err)}`, { cause: err });
}
