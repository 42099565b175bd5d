/**
 * Response bodies that already are JSON text (documents the database rendered): sent as they
 * are, without parsing them and serialising them again. Fastify passes a string through
 * untouched when the content type is JSON; the header is the one it sets for objects.
 * The route's response schema still describes the body (OpenAPI, contract tests); a text is
 * only sent this way when its producer guarantees it is what JSON.stringify makes of a valid
 * document (see assets-repo-docs.ts and its test).
 */
import type { FastifyReply } from 'fastify';

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Marks the reply as JSON and hands back `text` as the handler's result. */
export function jsonText(reply: FastifyReply, text: string): string {
  void reply.header('content-type', JSON_CONTENT_TYPE);
  return text;
}
