#!/usr/bin/env node
// The mailroom CLI. Sources are TypeScript, loaded through tsx so that a clone runs
// without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../client/cli.ts');
