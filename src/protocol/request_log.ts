/**
 * The lines `--log-req` and `--log-resp` print, and how messages name a request. Never a
 * body: only IDs, sizes and outcomes.
 *
 * @module
 */

import type { Request, Response } from "./wire.ts";

/**
 * Names a request in messages: its ID, its command and its action.
 *
 * @param request The request.
 * @returns Such as `request 7 "get" (action 1f…)`.
 */
export function describe(request: Request): string {
  const action = request.actionId === undefined ? "" : ` (action ${request.actionId})`;
  return `request ${request.id} ${JSON.stringify(request.command)}${action}`;
}

/**
 * The `--log-req` line of a request.
 *
 * @param request The request.
 * @returns The line.
 */
export function requestLine(request: Request): string {
  let line = `request ${request.id} ${request.command}`;
  if (request.actionId !== undefined) line += ` action ${request.actionId}`;
  if (request.command === "put") line += ` size ${request.bodySize}`;
  return line;
}

/**
 * The `--log-resp` line of a response.
 *
 * @param request The request it answers.
 * @param response The response.
 * @param millis How long the request took.
 * @param source Which tier answered a hit.
 * @returns The line.
 */
export function responseLine(
  request: Request,
  response: Response,
  millis: number,
  source: string,
): string {
  let outcome: string;
  if (response.err !== undefined) outcome = `error "${response.err}"`;
  else if (response.miss === true) outcome = "miss";
  else if (request.command === "get") outcome = `${source} hit size ${response.size ?? 0}`;
  else if (request.command === "put") outcome = `stored size ${request.bodySize}`;
  else outcome = "ok";
  return `response ${request.id} ${request.command} ${outcome} in ${millis.toFixed(2)} ms`;
}
