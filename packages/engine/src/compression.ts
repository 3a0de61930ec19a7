/**
 * Compression codecs, registered by name; the repository config names the one in use.
 * Every compressed payload starts with one codec byte so a reader never guesses:
 * 0 = stored raw, 1 = zstd.
 */
import { Decompressor } from 'zstd-napi';
import zstd from 'zstd-napi/binding.js';
import { IntegrityError } from './errors.js';

export const CODEC_RAW = 0;
export const CODEC_ZSTD = 1;

/** A chunk is stored raw unless compression saves at least this fraction. */
const MIN_SAVING = 1 / 32;
/** Bytes sampled to decide whether a large chunk is worth compressing. */
const PROBE_BYTES = 4096;

export interface Codec {
  /**
   * Chooses raw or zstd for `data`; the body is `data` itself when raw (no copy). A compressed
   * body lives in a buffer of the codec's that the next `encode` overwrites: use it (seal it)
   * before encoding anything else.
   */
  encode(data: Uint8Array): { codec: number; body: Uint8Array };
  /** Returns `codec byte ‖ payload`; raw when compressing would not pay. */
  pack(data: Uint8Array): Buffer;
  unpack(data: Uint8Array, what: string): Buffer;
}

function compressionContext(level: number) {
  const cctx = new zstd.CCtx();
  cctx.setParameter(zstd.CParameter.compressionLevel, level);
  let scratch = Buffer.alloc(0);
  /** Compresses into the context's scratch buffer (grown as needed); returns a view of it. */
  return (data: Uint8Array): Buffer => {
    const bound = zstd.compressBound(data.length);
    if (scratch.length < bound) scratch = Buffer.allocUnsafeSlow(Math.max(bound, 64 << 10));
    return scratch.subarray(0, cctx.compress2(scratch, data));
  };
}

export function createZstdCodec(level = 3): Codec {
  const compress = compressionContext(level);
  const probe = compressionContext(1);
  const decompressor = new Decompressor();

  const encode = (data: Uint8Array): { codec: number; body: Uint8Array } => {
    const raw = { codec: CODEC_RAW, body: data };
    if (data.length < 64) return raw;
    // Incompressible data (media, encrypted, already compressed) is common in volumes: a cheap
    // probe on a sample avoids spending a full compression pass on it.
    if (data.length > PROBE_BYTES * 4) {
      const sample = data.subarray(0, PROBE_BYTES);
      if (probe(sample).length > PROBE_BYTES * (1 - MIN_SAVING)) return raw;
    }
    const z = compress(data);
    return z.length > data.length * (1 - MIN_SAVING) ? raw : { codec: CODEC_ZSTD, body: z };
  };

  return {
    encode,
    pack(data) {
      const { codec, body } = encode(data);
      const out = Buffer.allocUnsafe(body.length + 1);
      out[0] = codec;
      out.set(body, 1);
      return out;
    },
    unpack(data, what) {
      const codec = data[0];
      const body = Buffer.from(data.buffer, data.byteOffset + 1, data.byteLength - 1);
      if (codec === CODEC_RAW) return body;
      if (codec === CODEC_ZSTD) {
        try {
          return decompressor.decompress(body);
        } catch (cause) {
          throw new IntegrityError(`${what}: zstd payload does not decompress`, { cause });
        }
      }
      throw new IntegrityError(`${what}: unknown codec ${codec}`);
    },
  };
}
