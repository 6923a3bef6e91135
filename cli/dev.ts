import type { Command } from 'commander';
import { readEnv } from '../infra/env';
import { downLocalServers, localServersStatus, upLocalServers } from '../infra/local-servers';

/** `feedloop dev up|down|status`: the embedded Temporal and PostgreSQL servers on loopback. */
export function registerDevCommands(program: Command): void {
  const dev = program.command('dev').description('local servers: a Temporal dev server (or, with --cluster, the multi-service server) and an embedded PostgreSQL');

  dev
    .command('up')
    .description('start the local servers (idempotent); state persists under FEEDLOOP_HOME (default .feedloop/)')
    .option('--cluster', 'run the multi-service Temporal server on PostgreSQL instead of the dev server (env FEEDLOOP_TEMPORAL=cluster)')
    .action(async (opts: { cluster?: boolean }) => {
      const env = readEnv(opts.cluster ? { ...process.env, FEEDLOOP_TEMPORAL: 'cluster' } : process.env);
      const servers = await upLocalServers(env, (line) => console.error(line));
      if (env.FEEDLOOP_TEMPORAL === 'cluster') {
        for (const s of localServersStatus(env).filter((s) => s.name.startsWith('temporal-'))) {
          console.log(`${s.name.padEnd(17)} ${s.where}${servers.started.includes(s.name) ? ' (started)' : ' (already running)'}`);
        }
      } else {
        console.log(`temporal   ${servers.temporalAddress}${servers.started.includes('temporal') ? ' (started)' : ' (already running)'}`);
        console.log(`temporal UI ${servers.temporalUiUrl}`);
      }
      console.log(
        servers.externalDatabase
          ? 'postgres   external (DATABASE_URL)'
          : `postgres   127.0.0.1:${env.FEEDLOOP_PG_PORT}${servers.started.includes('postgres') ? ' (started)' : ' (already running)'}`,
      );
      console.log(`state      ${env.FEEDLOOP_HOME}`);
    });

  dev
    .command('down')
    .description('stop the local servers (their state is kept)')
    .action(async () => {
      const stopped = await downLocalServers(readEnv());
      console.log(stopped.length ? `stopped: ${stopped.join(', ')}` : 'nothing was running');
    });

  dev
    .command('status')
    .description('say what runs where')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const status = localServersStatus(readEnv());
      if (opts.json) {
        console.log(JSON.stringify(status, null, 2));
        return;
      }
      for (const s of status) console.log(`${s.name.padEnd(17)} ${s.running ? `running${s.pid ? ` (pid ${s.pid})` : ''}` : 'stopped'}  ${s.where}`);
    });
}
