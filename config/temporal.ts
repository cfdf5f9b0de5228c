// Connection options for a Temporal cluster: the embedded dev server or TEMPORAL_ADDRESS with
// optional mTLS (TEMPORAL_TLS_CERT/KEY/CA) or an API key (Temporal Cloud).
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { Env } from './env.ts';

export interface TemporalTarget {
  address: string;
  namespace: string;
  taskQueue: string;
  tls?: { cert?: string; key?: string; ca?: string } | undefined;
  apiKey?: string | undefined;
}

export function temporalTargetFromEnv(env: Env, address: string): TemporalTarget {
  const tlsWanted = Boolean(env.TEMPORAL_TLS_CERT || env.TEMPORAL_TLS_CA || env.TEMPORAL_API_KEY);
  return {
    address,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    tls: tlsWanted ? { cert: env.TEMPORAL_TLS_CERT, key: env.TEMPORAL_TLS_KEY, ca: env.TEMPORAL_TLS_CA } : undefined,
    apiKey: env.TEMPORAL_API_KEY,
  };
}

function tlsConfig(target: TemporalTarget) {
  if (!target.tls) return undefined;
  const read = (p?: string) => (p ? readFileSync(p) : undefined);
  const cert = read(target.tls.cert);
  const key = read(target.tls.key);
  const ca = read(target.tls.ca);
  return {
    ...(cert && key ? { clientCertPair: { crt: cert, key } } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
  };
}

export function clientConnectionOptions(target: TemporalTarget): ConnectionOptions {
  const tls = tlsConfig(target);
  return { address: target.address, ...(tls ? { tls } : {}), ...(target.apiKey ? { apiKey: target.apiKey } : {}) };
}

export function workerConnectionOptions(target: TemporalTarget): NativeConnectionOptions {
  const tls = tlsConfig(target);
  return { address: target.address, ...(tls ? { tls } : {}), ...(target.apiKey ? { apiKey: target.apiKey } : {}) };
}
