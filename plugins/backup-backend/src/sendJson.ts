/**
 * `res.json(value)` that serializes an object once: the read caches hand the same page object to
 * every request within their ttl, and serializing a page of 50 backups was a fifth of such a
 * request's time. The text is kept beside the object (WeakMap), so it goes when the object does.
 */
import type { Response } from 'express';

const serialized = new WeakMap<object, string>();

export function sendJson(res: Response, value: object): void {
  let body = serialized.get(value);
  if (body === undefined) {
    body = JSON.stringify(value);
    serialized.set(value, body);
  }
  res.type('json').send(body);
}
