// Authentication as a v1.32 API server with anonymous auth enabled (kind's default) does it:
// a bearer token must be one the server knows, else 401 with the real Unauthorized Status; a
// request without credentials is `system:anonymous`, which may read only the public-info paths
// (/healthz, /livez, /readyz, /version) and is refused everything else with the RBAC 403.
//
// Client certificates (HTTPS listener only) must be signed by the cluster CA: the user is their CN.
// As the real union authenticator, one valid credential is enough; a presented one that is invalid,
// with nothing valid beside it, is a 401.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { forbiddenError } from './faults.js';
import { ApiError, failure } from './status.js';

export const ANONYMOUS = 'system:anonymous';
/** The user the emulator's own kubeconfig token authenticates as (kind's admin). */
export const ADMIN_USER = 'kubernetes-admin';

/** Paths system:anonymous may GET (the system:public-info-viewer ClusterRole). */
const PUBLIC_PATHS = /^\/(healthz|livez|readyz|version)(\/.*)?$/;

export function unauthorized(): ApiError {
  return new ApiError(failure(401, 'Unauthorized', 'Unauthorized'));
}

/** The bearer tokens the server accepts, each with the user it authenticates; tests add and revoke. */
export class Authenticator {
  private readonly tokens = new Map<string, string>();

  addToken(token: string, user = ADMIN_USER): void {
    this.tokens.set(token, user);
  }

  revokeToken(token: string): void {
    this.tokens.delete(token);
  }

  userForToken(token: string): string | undefined {
    return this.tokens.get(token);
  }

  /** The user making the request; throws the 401 or 403 a real server answers. */
  authenticate(req: IncomingMessage, method: string, path: string, query: string): string {
    const cert = clientCertificate(req);
    if (cert.user !== undefined) return cert.user;
    const auth = req.headers.authorization ?? '';
    if (auth === '') {
      if (cert.presented) throw unauthorized();
      if ((method === 'GET' || method === 'HEAD') && PUBLIC_PATHS.test(path)) return ANONYMOUS;
      throw anonymousForbidden(method, path, query);
    }
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    const user = bearer ? this.tokens.get(bearer[1]) : undefined;
    // Basic auth went away in 1.19; any other scheme is not understood, which is also a 401.
    if (user === undefined) throw unauthorized();
    return user;
  }
}

/** The client certificate of a TLS request: presented at all, and the user when the CA signed it. */
function clientCertificate(req: IncomingMessage): { presented: boolean; user?: string } {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return { presented: false };
  const peer = socket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0) return { presented: false };
  const cn = peer.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  return { presented: true, user: socket.authorized && name ? name : undefined };
}

function anonymousForbidden(method: string, path: string, query: string): ApiError {
  if (/^\/apis?\/.+\/.+/.test(path) && !/^\/apis\/[^/]+\/[^/]+\/?$/.test(path) && path !== '/api/v1')
    return forbiddenError(method, path, query, ANONYMOUS);
  const verb = method === 'HEAD' ? 'head' : method.toLowerCase();
  return new ApiError(
    failure(403, 'Forbidden', `forbidden: User "${ANONYMOUS}" cannot ${verb} path "${path}"`, {}),
  );
}
