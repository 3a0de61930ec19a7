/**
 * `res.json(value)` that serializes an object once: the read caches hand the same page object to
 * every request within their ttl, and serializing a page of 50 backups was a fifth of such a
 * request's time. The body (UTF-8 bytes) and its ETag (made by the app's own `etag fn`, as
 * `res.send` would, so a 304 is answered the same) are kept beside the object (WeakMap), so they
 * go when it does: a cached page is encoded and hashed once, not on every request. An object read
 * as JSON text (a page whose rows the database gave as JSON) comes with its text.
 */
import type { Response } from 'express';

interface Body {
  bytes: Buffer;
  etag?: string;
}

const bodies = new WeakMap<object, Body>();

/** `value`, whose JSON is `text` (which sendJson then sends as it is). */
export function withJsonText<T extends object>(value: T, text: string): T {
  bodies.set(value, { bytes: Buffer.from(text) });
  return value;
}

function bodyOf(value: object): Body {
  let body = bodies.get(value);
  if (body === undefined) {
    body = { bytes: Buffer.from(JSON.stringify(value)) };
    bodies.set(value, body);
  }
  return body;
}

/** The JSON text of `value`, made once. */
export function jsonText(value: object): string {
  return bodyOf(value).bytes.toString();
}

type EtagFn = (body: Buffer, encoding?: string) => string | undefined;

export function sendJson(res: Response, value: object): void {
  const body = bodyOf(value);
  const etagOf = res.app.get('etag fn') as EtagFn | undefined;
  if (typeof etagOf === 'function' && !res.get('ETag')) {
    body.etag ??= etagOf(body.bytes);
    if (body.etag) res.set('ETag', body.etag);
  }
  res.type('json').send(body.bytes);
}
