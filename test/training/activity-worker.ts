import { NativeConnection, Worker } from '@temporalio/worker';
import { createTrainingActivities } from '../../activities/training';

/**
 * A GPU-style worker process running only the training activities, so a test can SIGKILL it
 * mid-job like a preempted node. Usage: tsx activity-worker.ts <temporal address> <task queue> <name>
 */
async function main() {
  const [address, taskQueue, name] = process.argv.slice(2);
  if (!address || !taskQueue || !name) throw new Error('usage: activity-worker.ts <address> <task queue> <name>');
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    activities: createTrainingActivities({ workerTaskQueue: `${taskQueue}-${name}`, heartbeatIntervalMs: 200 }),
  });
  process.stdout.write('worker ready\n');
  await worker.run();
  await connection.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
