import { createServer } from 'node:net';
import { type FuzeConfig, FuzeError } from '@fuze/core';

interface ListenPort {
  service: string;
  variable: string;
  port: number;
}

/** The ports a process with these services listens on, each with the variable that sets it. */
function listenPorts(config: FuzeConfig, services: readonly string[]): ListenPort[] {
  const ports: ListenPort[] = [
    { service: 'ops (metrics, health)', variable: 'FUZE_METRICS_PORT', port: config.http.metricsPort },
  ];
  if (services.includes('gateway'))
    ports.push({ service: 'gateway', variable: 'FUZE_GATEWAY_PORT', port: config.http.gatewayPort });
  if (services.includes('admin'))
    ports.push({ service: 'admin', variable: 'FUZE_ADMIN_PORT', port: config.http.adminPort });
  return ports.filter((p) => p.port !== 0); // 0: any free port, always available
}

/**
 * Fails at once, before NATS and the database start, when a port this process needs is taken:
 * FUZE_PORT_IN_USE naming each service, port and variable. (A port taken in the moment between
 * this check and the service's own listen still fails, with the listen error.)
 */
export async function assertPortsFree(config: FuzeConfig, services: readonly string[]): Promise<void> {
  const problems: string[] = [];
  for (const { service, variable, port } of listenPorts(config, services)) {
    const error = await tryListen(config.http.host, port);
    if (error === 'EADDRINUSE')
      problems.push(
        `the ${service} port ${port} on ${config.http.host} is already in use (${variable}): stop what listens there, or set ${variable} to a free port`,
      );
    else if (error)
      problems.push(`the ${service} cannot listen on ${config.http.host}:${port} (${variable}): ${error}`);
  }
  if (problems.length > 0)
    throw new FuzeError('FUZE_PORT_IN_USE', problems.join('; '), { details: { problems } });
}

function tryListen(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
