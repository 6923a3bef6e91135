import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../infra/paths';

/** A worker entry point run as its own process, as in a deployment, so it can be SIGKILLed. */
export class WorkerProcess {
  private child?: ChildProcess;
  private output = '';
  starts = 0;

  constructor(
    readonly name: string,
    private readonly entry: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async start(): Promise<void> {
    this.output = '';
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'workers', this.entry), ...this.args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...this.env, FEEDLOOP_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.starts++;
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${this.name} worker exited during start-up:\n${this.output.slice(-3000)}`);
      if (this.output.includes('"msg":"workers started"')) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.name} worker did not start:\n${this.output.slice(-3000)}`);
  }

  /** SIGKILL: no graceful shutdown, in-flight activities are simply lost. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return; // gone already (a SIGKILLed one has a signalCode only)
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return; // gone already (a SIGKILLed one has a signalCode only)
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  tail(): string {
    return this.output.slice(-2000);
  }
}
