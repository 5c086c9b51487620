// A test's HTTP(S) server on a free port of this machine, and how to close it at once: its open keep-alive
// connections too (server.close alone waits for them).
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface LocalServer {
  port: number;
  close(): Promise<void>;
}

export async function listenLocally(server: HttpServer | HttpsServer, host = '127.0.0.1'): Promise<LocalServer> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
