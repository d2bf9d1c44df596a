import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../log.ts';

/** An error meant for the client: answered as application/problem+json with its status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The request parameter at fault, when there is one. */
    readonly parameter?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not-found', `no route for ${req.method} ${req.path}`));
};

/** The one error middleware: RFC 9457 problem details; never leaks internals for a 500. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const known = error instanceof HttpError;
    // body-parser and friends tag client errors with a status
    const status = known ? error.status : typeof error?.status === 'number' && error.status < 500 ? error.status : 500;
    if (status >= 500) logger.error({ err: error, method: req.method, url: req.originalUrl }, 'request failed');
    // a streamed answer that failed midway: its status is gone, so the connection is cut (the client sees a
    // truncated body, never a well-formed but incomplete file)
    if (res.headersSent) {
      if (status < 500) logger.warn({ err: error, method: req.method, url: req.originalUrl }, 'request failed after its answer started');
      res.destroy(error instanceof Error ? error : undefined);
      return;
    }
    res
      .status(status)
      .type('application/problem+json')
      .json({
        type: `https://terrinum.invalid/problems/${known ? error.code : status >= 500 ? 'internal' : 'bad-request'}`,
        title: known ? error.code : status >= 500 ? 'internal-error' : 'bad-request',
        status,
        detail: status >= 500 ? 'internal error; see the server log' : String(error.message),
        ...(known && error.parameter ? { parameter: error.parameter } : {}),
        instance: req.originalUrl,
      });
  };
}
