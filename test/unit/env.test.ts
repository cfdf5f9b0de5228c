import { describe, expect, it } from 'vitest';
import { readEnv } from '../../config/env.ts';

describe('environment variables', () => {
  it('treat empty values as unset and apply defaults', () => {
    expect(readEnv({ DATABASE_URL: '', TEMPORAL_ADDRESS: '  ' })).toMatchObject({
      DATABASE_URL: undefined,
      TEMPORAL_ADDRESS: undefined,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'mailroom',
      LOG_LEVEL: 'info',
    });
  });

  it('name the variable, say what is expected and hide the password', () => {
    expect(() => readEnv({ DATABASE_URL: 'mysql://u:secret@h/db' })).toThrow(
      'environment variable DATABASE_URL is invalid: expected postgres://user:password@host:port/database (value "mysql://u:***@h/db")',
    );
    expect(() => readEnv({ LOG_LEVEL: 'loud' })).toThrow(/environment variable LOG_LEVEL is invalid/);
  });
});
