import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface FuzeServeOptions {
  natsUrl: string;
  /** FUZE_STREAM_PREFIX */
  prefix: string;
  /** A scratch directory: the data dir goes under it. */
  dir: string;
  /** `--services` */
  services: string;
  /** A rule file applied at start (`--rules`). */
  rules?: string;
  /** More FUZE_* variables. */
  env?: Record<string, string>;
  /** Writes a .cpuprofile of the process here when it exits. */
  profileDir?: string;
}

/** The built `fuze` binary serving some services in a child process; resolves once it is running. */
export async function startFuzeServe(options: FuzeServeOptions): Promise<ChildProcess> {
  const bin = fileURLToPath(new URL('../../packages/cli/dist/bin.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      ...(options.profileDir
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${options.profileDir}`,
            `--cpu-prof-name=${options.services}.cpuprofile`,
          ]
        : []),
      bin,
      'serve',
      '--services',
      options.services,
      ...(options.rules ? ['--rules', options.rules] : []),
    ],
    {
      env: {
        PATH: process.env.PATH ?? '',
        FUZE_NATS_URL: options.natsUrl,
        FUZE_STREAM_PREFIX: options.prefix,
        FUZE_DATA_DIR: join(options.dir, 'data'),
        FUZE_METRICS_PORT: '0',
        FUZE_LOG_LEVEL: 'info',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('fuze is running')) resolve();
    });
    child.once('exit', (code) =>
      reject(
        new Error(`fuze serve --services ${options.services} exited with ${code}:\n${output.slice(-2_000)}`),
      ),
    );
  });
  child.stdout?.resume();
  return child;
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
