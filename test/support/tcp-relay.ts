// A TCP relay to a real server that a test can freeze: connections stay open but no byte passes, the way a
// network partition without resets looks to a client. It can also be pointed at another server, the way a DNS
// name or a Service moves to the new master after a failover: open connections stay with the old server, new
// ones reach the new one. Cut, it drops every connection and refuses new ones until told to accept again, the
// way clients see a server restart.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpRelay {
  readonly port: number;
  freeze(): void;
  thaw(): void;
  /** New connections go to this port from now on; open ones are left as they are. */
  pointAt(targetPort: number): void;
  /** Drops every open connection and, until `accept`, closes new ones at once: a server restarting. */
  cut(): void;
  accept(): void;
  close(): Promise<void>;
}

export async function tcpRelay(initialPort: number): Promise<TcpRelay> {
  let targetPort = initialPort;
  const sockets = new Set<Socket>();
  /** Bytes held back while frozen, with the socket they are for, in order. */
  const held: Array<[Socket, Buffer]> = [];
  let frozen = false;
  let refusing = false;
  const relay = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (frozen) held.push([to, chunk]);
      else to.write(chunk);
    });
  };
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    relay(client, upstream);
    relay(upstream, client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('relay has no TCP address');
  return {
    port: address.port,
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const [to, chunk] of held.splice(0)) if (!to.destroyed) to.write(chunk);
    },
    pointAt(port) {
      targetPort = port;
    },
    cut() {
      refusing = true;
      held.length = 0;
      for (const socket of sockets) socket.destroy();
    },
    accept() {
      refusing = false;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
