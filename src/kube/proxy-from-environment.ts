// The proxy of an API server address as client-go (Go's http.ProxyFromEnvironment) picks it when the
// kubeconfig names none: HTTPS_PROXY (HTTP_PROXY for an http:// server), unless NO_PROXY names the host, its
// domain or its network, or the host is loopback. The client library reads only the kubeconfig's proxy-url.
import { BlockList, isIP } from 'node:net';

export function proxyFromEnvironment(
  server: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const url = new URL(server);
  const proxy =
    url.protocol === 'https:' ? (env.HTTPS_PROXY ?? env.https_proxy) : (env.HTTP_PROXY ?? env.http_proxy);
  if (!proxy) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || isLoopback(host)) return undefined;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const entries = (env.NO_PROXY ?? env.no_proxy ?? '').split(',').map((entry) => entry.trim().toLowerCase());
  for (const entry of entries) {
    if (entry === '') continue;
    if (entry === '*') return undefined;
    if (entry.includes('/') && isIP(host) && inNetwork(host, entry)) return undefined;
    const [name, entryPort] = entry.startsWith('[')
      ? [entry.slice(1, entry.indexOf(']')), entry.split(']:')[1]]
      : entry.split(':');
    if (entryPort !== undefined && entryPort !== port) continue;
    const domain = name!.replace(/^\*?\./, '');
    if (host === domain || host.endsWith(`.${domain}`)) return undefined;
  }
  return proxy;
}

function isLoopback(host: string): boolean {
  return host === '::1' || /^127\./.test(host);
}

function inNetwork(host: string, cidr: string): boolean {
  const [network, bits] = cidr.split('/');
  const family = isIP(network ?? '');
  if (family === 0 || family !== isIP(host)) return false;
  const list = new BlockList();
  list.addSubnet(network!, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  return list.check(host, family === 6 ? 'ipv6' : 'ipv4');
}
