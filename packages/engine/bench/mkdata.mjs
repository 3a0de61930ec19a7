#!/usr/bin/env node
// Deterministic backup test data: node mkdata.mjs DIR SIZE_MIB [SEED] [--mutate PCT]
//
// An ESM copy of the project's shared bench data generator (../shared/bench/mkdata.js, "the mix
// we measure against"): for the same arguments it writes byte-for-byte the same tree. It streams
// instead of holding whole files in memory, which changes no byte: AES-CTR keystreams and the
// log text come out the same whether produced at once or in pieces.
//
// Half incompressible (AES-CTR keystream) in 4 big files, a quarter compressible log text, a
// quarter small files (1-64 KiB) in nested folders. Same SEED, same bytes.
// --mutate PCT rewrites PCT% of the data in place (scattered 64 KiB regions, some small files
// replaced, a few new files): the "day 2" of an incremental backup.
//
// Notes kept from the original: with --mutate, files are picked in readdir order, which is the
// file system's order (the same for the same names on one file system, not across file
// systems). The original reads the seed from the third argument even in `DIR --mutate PCT`
// form (where it is the PCT); this copy only takes a seed from a third positional argument, so
// give it explicitly (`DIR SIZE SEED --mutate PCT`) when comparing the two.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MiB = 1 << 20;

/** The AES-128-CTR keystream of stream `id`: successive calls return its next `n` bytes. */
function keystream(seed, id) {
  const key = Buffer.alloc(16);
  key.writeUInt32BE(seed, 12);
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(id, 0); // id in the high word: streams never overlap
  const cipher = crypto.createCipheriv('aes-128-ctr', key, iv);
  return (n) => cipher.update(Buffer.alloc(n));
}

const stream = (seed, id, n) => keystream(seed, id)(n);

/** The original's LCG, floating-point arithmetic included (it is part of the output). */
function rng(seed, id) {
  let x = (seed * 2654435761 + id * 40503) >>> 0 || 1;
  return () => (x = (x * 1103515245 + 12345) >>> 0);
}

function writeStreamed(file, bytes, next) {
  const fd = fs.openSync(file, 'w');
  try {
    for (let done = 0; done < bytes;) {
      const n = Math.min(16 * MiB, bytes - done);
      fs.writeSync(fd, next(n));
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

function logLine(n) {
  const day = String((n % 28) + 1).padStart(2, '0');
  const hour = String(n % 24).padStart(2, '0');
  return `2026-11-${day}T${hour}:00:00Z row=${n} status=${n % 17 ? 'ok' : 'error'} user=u${n % 977} bytes=${(n * 7919) % 100000}\n`;
}

/** Lines until at least `bytes` are written, then cut to exactly `bytes` (all ASCII). */
function writeLog(file, bytes, seed) {
  const fd = fs.openSync(file, 'w');
  try {
    let written = 0;
    let n = seed;
    while (written < bytes) {
      let text = '';
      while (text.length < MiB && written + text.length < bytes) text += logLine(n++);
      fs.writeSync(fd, text.slice(0, bytes - written));
      written += text.length;
    }
  } finally {
    fs.closeSync(fd);
  }
}

export function generate(dir, mib, seed = 1) {
  fs.mkdirSync(dir, { recursive: true });
  const big = Math.floor(mib / 2);
  const txt = Math.floor(mib / 4);
  const small = mib - big - txt;
  for (let i = 1; i <= 4; i++) {
    writeStreamed(path.join(dir, `blob${i}.bin`), Math.floor((big * MiB) / 4), keystream(seed, i));
  }
  writeLog(path.join(dir, 'table.log'), txt * MiB, seed);
  const pool = keystream(seed, 99);
  const r = rng(seed, 1);
  const poolSize = small * MiB;
  for (let off = 0, k = 0; off < poolSize; k++) {
    const sz = Math.min(1024 + (r() % 65536), poolSize - off);
    const d = path.join(dir, 'small', `d${k % 37}`, `e${k % 11}`);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, `f${k}.dat`), pool(sz));
    off += sz;
  }
}

export function mutate(dir, pct, seed = 1) {
  const r = rng(seed, 1000 + Math.round(pct * 100));
  const files = [];
  (function walk(p) {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const q = path.join(p, e.name);
      if (e.isDirectory()) walk(q);
      else files.push(q);
    }
  })(dir);
  const total = files.reduce((s, f) => s + fs.statSync(f).size, 0);
  let budget = Math.floor((total * pct) / 100);
  let id = 5000;
  const bigs = files.filter((f) => fs.statSync(f).size > 4 * MiB);
  while (budget > 0) {
    const f = bigs[r() % bigs.length];
    const size = fs.statSync(f).size;
    const n = Math.min(65536, budget);
    const fd = fs.openSync(f, 'r+');
    fs.writeSync(fd, stream(seed, id++, n), 0, n, r() % (size - n));
    fs.closeSync(fd);
    budget -= n;
    if (r() % 4 === 0) {
      const s = files[r() % files.length];
      if (!bigs.includes(s)) {
        const m = fs.statSync(s).size;
        fs.writeFileSync(s, stream(seed, id++, m));
        budget -= m;
      }
    }
  }
  fs.mkdirSync(path.join(dir, 'new'), { recursive: true });
  for (let i = 0; i < 20; i++) {
    fs.writeFileSync(path.join(dir, 'new', `n${i}.dat`), stream(seed, id++, 4096 + (r() % 8192)));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--mutate');
  const pct = at >= 0 ? Number(args[at + 1]) : 0;
  const [dir, mibArg, seedArg] = at >= 0 ? [...args.slice(0, at), ...args.slice(at + 2)] : args;
  if (!dir) {
    console.error('usage: node mkdata.mjs DIR SIZE_MIB [SEED] [--mutate PCT]');
    process.exit(2);
  }
  const seed = Number(seedArg || 1);
  if (pct) mutate(dir, pct, seed);
  else generate(dir, Number(mibArg), seed);
}
