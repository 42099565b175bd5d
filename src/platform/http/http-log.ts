/**
 * What the HTTP server logs per request. A healthy request is a debug line: at the default
 * level the terminal shows only requests that failed (5xx) or were slow, unless every request is
 * asked for (`logRequests: 'all'`). A client that goes away mid-response (a cancelled download)
 * is normal and logged at debug, not as an error.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

export interface RequestLogPolicy {
  /** Log every completed request at info (STEWARD_LOG_REQUESTS=all). */
  all: boolean;
  /** A request that took at least this long is logged at info whatever its status. */
  slowMs: number;
}

/** The level of a completed request's line: 4xx are the client's business, so debug unless slow. */
export function requestLogLevel(status: number, ms: number, policy: RequestLogPolicy): 'info' | 'debug' {
  return policy.all || status >= 500 || ms >= policy.slowMs ? 'info' : 'debug';
}

class RequestLog extends LogController {
  constructor(private readonly policy: RequestLogPolicy) {
    super();
  }

  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log[requestLogLevel(reply.statusCode, reply.elapsedTime, this.policy)](line, 'request completed');
  }

  override streamError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if ((error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') reply.log.debug({ res: reply }, 'client closed the connection before the response ended');
    else super.streamError(error, request, reply);
  }
}

export function requestLogController(policy: RequestLogPolicy): LogController {
  return new RequestLog(policy);
}
