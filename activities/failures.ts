// The one place where a mistake the user must fix becomes a Temporal failure that is not retried:
// a UserError (a stored campaign that no longer parses, a template missing on this worker's disk)
// would fail the same way every minute forever. The workflow turns such a failure into the
// campaign's `needs_attention` state, with the message, until someone fixes it and resumes.
// Anything else (a database or provider that is down) stays a plain error and is retried.
import { hostname } from 'node:os';
import { ApplicationFailure } from '@temporalio/common';
import { UserError } from '../config/errors.ts';

/** The failure type the workflow recognises as "the user must act". */
export const USER_ERROR_TYPE = 'UserError';

export function asTemporalFailure(error: unknown): unknown {
  if (!(error instanceof UserError)) return error;
  return ApplicationFailure.create({
    message: `${error.message} (on worker ${hostname()})`,
    type: USER_ERROR_TYPE,
    nonRetryable: true,
  });
}

// Activities take whatever their own signatures say; `never[]` accepts every parameter list.
type AnyActivity = (...args: never[]) => Promise<unknown>;

/** The same activities, each converting a UserError on its way out. */
export function failingLoudly<T extends Record<string, AnyActivity>>(activities: T): T {
  const wrapped: Record<string, AnyActivity> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (error) {
        throw asTemporalFailure(error);
      }
    };
  }
  return wrapped as T;
}
