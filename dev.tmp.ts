import { Command } from 'commander';
import { register as v } from './reconciler/src/cli/commands/validate.ts';
import { register as c } from './reconciler/src/cli/commands/capacity.ts';
import { register as a } from './reconciler/src/cli/commands/add-node.ts';
const p = new Command('fleet').exitOverride(); v(p); c(p); a(p);
try { await p.parseAsync(process.argv.slice(2), { from: 'user' }); } catch (e) { console.error('ERR', (e as Error).message); process.exitCode = 1; }
