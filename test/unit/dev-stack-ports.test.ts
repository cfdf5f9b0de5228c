// The ports a dev stack used are remembered in its home and taken again at the next start; one
// that another process holds now is replaced, and the stack says which and why.
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Paths } from '../../config/paths.ts';
import { anyFreePort } from '../../config/ports.ts';
import { PortPlan, readStackPorts, rememberStackPorts } from '../../dev/stack-ports.ts';
import { tempDir } from '../helpers/csv.ts';

const listen = (port: number) =>
  new Promise<Server>((resolveListen) => {
    const server = createServer();
    server.listen(port, '127.0.0.1', () => resolveListen(server));
  });

describe('the stack remembers its ports', () => {
  it('takes the remembered ports again when free, over the conventional ones', async () => {
    const paths = { home: tempDir('mailroom-ports-') } as Paths;
    const [pg, tracking, conventional] = [await anyFreePort(), await anyFreePort(), await anyFreePort()];
    rememberStackPorts(paths, { postgres: pg, tracking });
    const plan = new PortPlan(readStackPorts(paths), () => {});
    expect(await plan.take('postgres', conventional)).toBe(pg);
    expect(await plan.take('tracking', conventional)).toBe(tracking);
    expect(plan.moved).toEqual([]);
    // A part not remembered yet takes the conventional port, and is remembered from now on.
    expect(await plan.take('smtp', conventional)).toBe(conventional);
    rememberStackPorts(paths, plan.chosen);
    expect(readStackPorts(paths)).toEqual({ postgres: pg, tracking, smtp: conventional });
  });

  it('says so when a remembered port is taken by another process, and takes another', async () => {
    const paths = { home: tempDir('mailroom-ports-') } as Paths;
    const tracking = await anyFreePort();
    rememberStackPorts(paths, { tracking, postgres: await anyFreePort() });
    const squatter = await listen(tracking);
    try {
      const said: string[] = [];
      const plan = new PortPlan(readStackPorts(paths), (line) => said.push(line));
      const port = await plan.take('tracking', tracking);
      expect(port).not.toBe(tracking);
      expect(said).toEqual([
        `The tracking server moved from port ${tracking} to ${port}: port ${tracking}, which the stack used before, is taken by another process. Links already sent to port ${tracking} do not answer until it is free again.`,
      ]);
      expect(plan.moved).toEqual(said);
    } finally {
      squatter.close();
    }
  });
});
