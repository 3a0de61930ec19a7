/**
 * The restore work of a worker thread: read one span of a pack (from the pack file itself when
 * the storage is a directory, else from the bytes sent along), authenticate, decompress and
 * id-check its blobs one by one, and write them into the target files (file-writes.ts). Blobs
 * adjacent in a file are written together (a run): stored blobs straight from their decrypted
 * payload, compressed ones decompressed next to each other into one buffer. Nothing is written
 * before the blob it comes from has been authenticated and its id recomputed.
 */
import zstd from 'zstd-napi/binding.js';
import { CODEC_RAW, CODEC_ZSTD } from '../compression.js';
import { contentId, open } from '../crypto.js';
import { IntegrityError } from '../errors.js';
import { FileWrites, ioError } from './file-writes.js';
import { gcNudger } from './gc-nudge.js';
import type { RestoreFile, SpanRequest } from './protocol.js';
import { readRangeInto } from '../util/read-range.js';

/** A run of adjacent blobs is written once it holds this many bytes. */
const RUN_BYTES = 1 << 20;

export class SpanWriter {
  private files: RestoreFile[] = [];
  private readonly out = new FileWrites();
  private spanBuf = Buffer.alloc(0);
  /** Decompressed blobs of the run, one after another. */
  private unpacked = Buffer.allocUnsafeSlow(RUN_BYTES);
  private unpackedLength = 0;
  /** The run: plaintexts adjacent in one file, written with one call. */
  private run: Buffer[] = [];
  private runFile = -1;
  private runStart = 0;
  private runLength = 0;
  private readonly dctx = new zstd.DCtx();
  private readonly nudge = gcNudger();

  constructor(
    private readonly idKey: Buffer,
    private readonly encKey: Buffer,
  ) {}

  /** The target files; `direct`: large writes may bypass the page cache (file-writes.ts). */
  setFiles(files: RestoreFile[], maxOpenFiles: number, direct: boolean): void {
    this.files = files;
    this.out.setFiles(files, maxOpenFiles, direct);
  }

  /**
   * Restores the blobs of one span; resolves with the bytes written (every placement counted)
   * once every write is done. One span at a time.
   */
  async write(req: SpanRequest): Promise<number> {
    const span = req.data ?? this.readSpan(req);
    // Placements left in this span per file: a file is closed (and completed) after its last.
    const left = new Map<number, number>();
    for (const blob of req.blobs) {
      for (let p = 0; p < blob.places.length; p += 2) {
        const file = blob.places[p]!;
        left.set(file, (left.get(file) ?? 0) + 1);
      }
    }
    let bytes = 0;
    try {
      for (const blob of req.blobs) {
        const [file, offset] = [blob.places[0]!, blob.places[1]!];
        if (
          this.runFile !== file ||
          this.runStart + this.runLength !== offset ||
          this.runLength + blob.plain > RUN_BYTES
        ) {
          await this.flushRun();
          this.runFile = file;
          this.runStart = offset;
        }
        const plain = this.decode(blob, span);
        this.run.push(plain);
        this.runLength += blob.plain;
        bytes += blob.plain * (blob.places.length / 2);
        // Further places of the same blob (duplicate content) are written from the run.
        for (let p = 2; p < blob.places.length; p += 2) {
          const other = blob.places[p]!;
          await this.writeAt(other, [plain], blob.places[p + 1]!);
          await this.placed(other, left);
        }
        await this.placed(file, left);
      }
      await this.flushRun();
      await this.out.settle();
    } finally {
      this.runFile = -1;
      this.resetRun();
      // After a failure, writes still in flight finish before their descriptors close.
      await this.out.settle().catch(() => {});
      this.out.closeAll();
    }
    return bytes;
  }

  private readSpan(req: SpanRequest): Buffer {
    if (this.spanBuf.length < req.length) this.spanBuf = Buffer.allocUnsafeSlow(req.length);
    let n: number;
    try {
      n = readRangeInto(req.pack!, req.offset, req.length, this.spanBuf);
    } catch (err) {
      throw ioError(err, `cannot read pack ${req.packId}`);
    }
    if (n < req.length) throw new IntegrityError(`pack ${req.packId}: shorter than its index says`);
    return this.spanBuf.subarray(0, req.length);
  }

  /**
   * Authenticates a blob, decompresses it if it is compressed (at the end of the run's
   * decompressed blobs) and checks its id; returns its plaintext.
   */
  private decode(blob: SpanRequest['blobs'][number], span: Uint8Array): Buffer {
    const what = `blob ${blob.id}`;
    const payload = open(this.encKey, span.subarray(blob.offset, blob.offset + blob.length), what);
    this.nudge(payload.length);
    const codec = payload[0];
    const body = payload.subarray(1);
    let plain: Buffer;
    if (codec === CODEC_RAW) {
      if (body.length !== blob.plain) throw new IntegrityError(`${what}: wrong length`);
      plain = body;
    } else if (codec === CODEC_ZSTD) {
      plain = this.unpackTarget(blob.plain);
      let n: number;
      try {
        n = this.dctx.decompress(plain, body);
      } catch (cause) {
        throw new IntegrityError(`${what}: zstd payload does not decompress`, { cause });
      }
      if (n !== blob.plain) throw new IntegrityError(`${what}: wrong length`);
    } else throw new IntegrityError(`${what}: unknown codec ${codec}`);
    if (contentId(this.idKey, plain) !== blob.id)
      throw new IntegrityError(`${what}: content does not match its id`);
    return plain;
  }

  /**
   * Room for `length` decompressed bytes after the run's others. A run is written before it
   * passes RUN_BYTES, so the buffer grows only for a blob larger than that, when the run is empty.
   */
  private unpackTarget(length: number): Buffer {
    if (this.unpacked.length < this.unpackedLength + length) {
      this.unpacked = Buffer.allocUnsafeSlow(Math.max(length, RUN_BYTES));
      this.unpackedLength = 0;
    }
    const at = this.unpackedLength;
    this.unpackedLength += length;
    return this.unpacked.subarray(at, at + length);
  }

  private async flushRun(): Promise<void> {
    if (this.runLength) await this.writeAt(this.runFile, this.run, this.runStart);
    this.resetRun();
  }

  private resetRun(): void {
    this.run = [];
    this.runLength = 0;
    this.unpackedLength = 0;
  }

  private writeAt(file: number, parts: Buffer[], position: number): Promise<void> {
    return this.out.write(file, parts, position, this.runFile);
  }

  /**
   * One more placement of `file` written: after its last one here, the file is closed — and
   * completed if it is this worker's to finish (then every blob of the file was in this span).
   */
  private async placed(file: number, left: Map<number, number>): Promise<void> {
    const n = left.get(file)! - 1;
    left.set(file, n);
    if (n > 0) return;
    if (this.runFile === file) await this.flushRun();
    this.out.close(file, this.files[file]!.finish);
  }
}
