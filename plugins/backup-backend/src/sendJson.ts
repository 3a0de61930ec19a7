/**
 * `res.json(value)` that serializes an object once: the read caches hand the same page object to
 * every request within their ttl, and serializing a page of 50 backups was a fifth of such a
 * request's time. The text is kept beside the object (WeakMap), so it goes when the object does;
 * an object read as JSON text (a page whose rows the database gave as JSON) comes with its text.
 */
import type { Response } from 'express';

const serialized = new WeakMap<object, string>();

/** `value`, whose JSON is `text` (which sendJson then sends as it is). */
export function withJsonText<T extends object>(value: T, text: string): T {
  serialized.set(value, text);
  return value;
}

/** The JSON text of `value`, made once. */
export function jsonText(value: object): string {
  let body = serialized.get(value);
  if (body === undefined) {
    body = JSON.stringify(value);
    serialized.set(value, body);
  }
  return body;
}

export function sendJson(res: Response, value: object): void {
  res.type('json').send(jsonText(value));
}
