/**
 * sendJson: the body and its ETag are made once per object (the app's own etag function, so the
 * tag is the one express would send and a matching If-None-Match gets 304), not per request; an
 * app without ETags gets none.
 */
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { sendJson, withJsonText } from './sendJson.js';

function app(etag: boolean) {
  const page = { items: [{ name: 'b-1', size: 3 }], total: 1 };
  const fromText = withJsonText({ items: [] }, '{"items":[],"total":0}');
  let hashed = 0;
  const a = express();
  a.set(
    'etag',
    etag
      ? (body: Buffer) => {
          hashed++;
          return `W/"${body.length}-${body.toString('base64url').slice(0, 8)}"`;
        }
      : false,
  );
  a.get('/page', (_req, res) => sendJson(res, page));
  a.get('/text', (_req, res) => sendJson(res, fromText));
  a.get('/plain', (_req, res) => res.type('json').send(JSON.stringify(page)));
  return { a, hashed: () => hashed };
}

describe('sendJson', () => {
  it('sends the ETag express would, hashing each object once', async () => {
    const { a, hashed } = app(true);
    const plain = await request(a).get('/plain').expect(200);
    const first = await request(a).get('/page').expect(200);
    const second = await request(a).get('/page').expect(200);
    expect(hashed()).toBe(2);
    expect(first.headers.etag).toBe(plain.headers.etag);
    expect(second.headers.etag).toBe(plain.headers.etag);
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    expect(first.body).toEqual({ items: [{ name: 'b-1', size: 3 }], total: 1 });
    await request(a).get('/page').set('If-None-Match', plain.headers.etag!).expect(304);
    const text = await request(a).get('/text').expect(200);
    expect(text.text).toBe('{"items":[],"total":0}');
  });

  it('sends no ETag when the app makes none', async () => {
    const { a, hashed } = app(false);
    const res = await request(a).get('/page').expect(200);
    expect(res.headers.etag).toBeUndefined();
    expect(hashed()).toBe(0);
  });
});
