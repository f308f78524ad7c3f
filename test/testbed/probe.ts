// Readiness probes for etcd (plain HTTP) and kube-apiserver (HTTPS with the admin client certificate,
// which also avoids the 403s anonymous probes get while the RBAC bootstrap roles are being created).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface TlsClient {
  ca: string;
  cert: string;
  key: string;
}

function get(url: string, tls?: TlsClient): Promise<number> {
  return new Promise((resolve) => {
    const req = (tls ? httpsRequest : httpRequest)(url, { timeout: 2000, ...tls }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

export async function etcdHealthy(clientUrl: string): Promise<boolean> {
  return (await get(`${clientUrl}/health`)) === 200;
}

/** /readyz is 200 and the `default` namespace exists (the point where envtest lets tests start). */
export async function apiServerReady(server: string, tls: TlsClient): Promise<boolean> {
  if ((await get(`${server}/readyz`, tls)) !== 200) return false;
  return (await get(`${server}/api/v1/namespaces/default`, tls)) === 200;
}
