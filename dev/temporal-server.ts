// The embedded Temporal dev server: history in SQLite under .mailroom/ (it survives restarts),
// loopback only, Web UI on, Mailroom's search attributes registered at start.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Paths } from '../config/paths.ts';
import { startChild, waitUntilReady, type ManagedChild } from './child-process.ts';
import { preferredPort } from '../config/ports.ts';
import type { Respawn } from './supervise.ts';
import { SEARCH_ATTRIBUTES } from '../workflows/contract.ts';

export interface TemporalPorts {
  port: number;
  uiPort: number;
  httpPort: number;
  metricsPort: number;
}

export interface RunningTemporal {
  address: string;
  uiUrl: string;
  ports: TemporalPorts;
  child: ManagedChild;
  /** Starts the server again on the same ports and history (after it died). */
  respawn: Respawn;
}

/** Asks the frontend for system info; true once the namespace answers. */
export async function temporalAnswers(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}

export async function startTemporalDevServer(
  binary: string,
  paths: Paths,
  opts: { namespace: string; say: (line: string) => void; limitMs?: number; ports?: TemporalPorts },
): Promise<RunningTemporal> {
  mkdirSync(dirname(paths.temporalDb), { recursive: true });
  const port = opts.ports?.port ?? (await preferredPort(7233));
  const uiPort = opts.ports?.uiPort ?? (await preferredPort(8233, [port]));
  const httpPort = opts.ports?.httpPort ?? (await preferredPort(7243, [port, uiPort]));
  const metricsPort = opts.ports?.metricsPort ?? (await preferredPort(7244, [port, uiPort, httpPort]));
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--db-filename',
    paths.temporalDb,
    '--namespace',
    opts.namespace,
    '--log-level',
    'warn',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  const spawnServer = () => startChild('temporal', binary, args, { logPath: join(paths.logs, 'temporal.log') });
  const address = `127.0.0.1:${port}`;
  // No fixed 5-second budget: on two busy cores the first start (schema creation) can be slow.
  const ready = (child: ManagedChild) =>
    waitUntilReady(child, () => temporalAnswers(address, opts.namespace), {
      limitMs: opts.limitMs ?? 180_000,
      say: opts.say,
      what: 'the Temporal dev server',
    });
  const child = spawnServer();
  await ready(child);
  return {
    address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    ports: { port, uiPort, httpPort, metricsPort },
    child,
    respawn: { spawn: spawnServer, ready },
  };
}
