import type { Socket } from 'node:net';
import { FuzeError } from '@fuze/core';
import { toProblem } from './problem-details.js';

/**
 * What Node's HTTP parser refuses before fastify sees a request (headers over the limit, a
 * request that does not arrive whole in time, bytes that are not HTTP) is answered as
 * problem+json like everything else, then the connection is closed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const problem = toProblem(clientErrorOf(err));
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function clientErrorOf(err: NodeJS.ErrnoException): FuzeError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new FuzeError('FUZE_HEADERS_TOO_LARGE', 'the request line and headers are over 16 KiB together');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new FuzeError(
        'FUZE_REQUEST_TIMEOUT',
        'the request did not arrive whole in time (FUZE_HTTP_REQUEST_TIMEOUT): is its body shorter than its Content-Length?',
      );
    default:
      return new FuzeError(
        'FUZE_INVALID_REQUEST',
        `the request is not valid HTTP (${err.code ?? err.message})`,
      );
  }
}
