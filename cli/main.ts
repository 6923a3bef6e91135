import { Command } from 'commander';
import { ConfigError } from '../common/config-error';
import { annotateCommand, registerAnnotateSubmitCommands } from './annotate';
import { registerAnnotateWebCommands } from './annotate-web';
import { registerAuditCommands } from './audit';
import { registerCampaignCommands } from './campaign';
import { registerCrowdCommands } from './crowd';
import { registerDatasetCommands } from './dataset';
import { registerDemoCommand } from './demo';
import { registerDeployCommands } from './deploy';
import { registerDevCommands } from './dev';
import { registerEvalCommand } from './eval-command';
import { registerFeedbackCommands } from './feedback';
import { registerMetricsCommands } from './metrics';
import { registerModelCommands } from './model';
import { registerSandboxCommands } from './sandbox';

/** The `feedloop` command line. */
const program = new Command('feedloop')
  .description('Durable Temporal workflows for the feedback loops that train code LLMs')
  .showHelpAfterError();

registerDevCommands(program);
registerDemoCommand(program);
registerEvalCommand(program);
registerCampaignCommands(program);
registerFeedbackCommands(program);
registerAuditCommands(program);
registerMetricsCommands(program);
registerCrowdCommands(program);
registerAnnotateSubmitCommands(annotateCommand(program));
registerAnnotateWebCommands(annotateCommand(program));
registerSandboxCommands(program);
registerDatasetCommands(program);
registerModelCommands(program);
registerDeployCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`feedloop: ${message}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
