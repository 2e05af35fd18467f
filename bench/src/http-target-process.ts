import { type ChildProcess, fork } from 'node:child_process';

export interface HttpTargetProcess {
  /** http://127.0.0.1:<port> */
  address: string;
  /** CPU time the server process used so far, in microseconds. */
  cpuMicros(): Promise<number>;
  /** CPU-profiles the server process while `work` runs, into `file`. */
  profile<T>(file: string, work: () => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

/** Forks http-target.js (`gateway <natsUrl> <prefix>` or `fastify`) and waits until it listens. */
export async function startHttpTarget(args: string[]): Promise<HttpTargetProcess> {
  const child: ChildProcess = fork(new URL('./http-target.js', import.meta.url), args, {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const reply = () =>
    new Promise<unknown>((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`HTTP target ${args[0]} exited with ${code} before answering`));
      child.once('exit', onExit);
      child.once('message', (message) => {
        child.off('exit', onExit);
        resolve(message);
      });
    });
  const { address } = (await reply()) as { address: string };
  return {
    address,
    async cpuMicros() {
      child.send('cpu');
      const { user, system } = (await reply()) as NodeJS.CpuUsage;
      return user + system;
    },
    async profile(file, work) {
      child.send({ profile: 'start' });
      await reply();
      try {
        return await work();
      } finally {
        child.send({ profile: 'stop', file });
        await reply();
      }
    },
    async stop() {
      child.send('stop');
      await exited;
    },
  };
}
