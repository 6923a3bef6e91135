import type { Command } from 'commander';
import { readEnv } from '../infra/env';
import { downLocalServers, localServersStatus, upLocalServers } from '../infra/local-servers';

/** `feedloop dev up|down|status`: the embedded Temporal and PostgreSQL servers on loopback. */
export function registerDevCommands(program: Command): void {
  const dev = program.command('dev').description('local servers: a Temporal dev server and an embedded PostgreSQL');

  dev
    .command('up')
    .description('start the local servers (idempotent); state persists under FEEDLOOP_HOME (default .feedloop/)')
    .action(async () => {
      const env = readEnv();
      const servers = await upLocalServers(env, (line) => console.error(line));
      console.log(`temporal   ${servers.temporalAddress}${servers.started.includes('temporal') ? ' (started)' : ' (already running)'}`);
      console.log(`temporal UI ${servers.temporalUiUrl}`);
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
      for (const s of status) console.log(`${s.name.padEnd(9)} ${s.running ? `running${s.pid ? ` (pid ${s.pid})` : ''}` : 'stopped'}  ${s.where}`);
    });
}
