// Structured logs to stderr. Log ids and counts only: never names, addresses, emails or phones.
import { pino, type Logger } from 'pino';
import { readEnv } from './env.ts';

let root: Logger | undefined;

export function logger(): Logger {
  root ??= pino({ level: readEnv().LOG_LEVEL, base: { app: 'mailroom' } }, pino.destination(2));
  return root;
}
