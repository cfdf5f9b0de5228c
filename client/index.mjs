// The typed client for scripts run with plain Node 20, from any folder: Mailroom's sources are
// TypeScript, so this entry registers tsx (Mailroom's own copy, found next to this file) and then
// loads client/index.ts. Two ways to use it:
//
//   node --import /path/to/mailroom/client/index.mjs my-script.ts   (a TypeScript script that imports
//                                                                    /path/to/mailroom/client/index.ts)
//   node my-script.mjs                                               (a JavaScript script that imports
//                                                                    /path/to/mailroom/client/index.mjs)
//
// Either way the script finds the stack as the CLI does: DATABASE_URL / TEMPORAL_ADDRESS, else the
// stack of MAILROOM_HOME, else the `.mailroom` of the current folder or one above it, else this checkout's.
import { register } from 'tsx/esm/api';

register();
const client = await import('./index.ts');

export const { connectMailroom, UserError, ExitCode } = client;
