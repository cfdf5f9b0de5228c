// Loopback ports for the embedded services: the conventional port when free, else any free one.
import { createServer } from 'node:net';

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolvePort(true)));
  });
}

export function anyFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function preferredPort(preferred: number, taken: number[] = []): Promise<number> {
  if (!taken.includes(preferred) && (await portIsFree(preferred))) return preferred;
  for (;;) {
    const port = await anyFreePort();
    if (!taken.includes(port)) return port;
  }
}
