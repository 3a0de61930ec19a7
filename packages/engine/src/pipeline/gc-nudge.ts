/**
 * Keeps the garbage of a worker thread's cipher outputs small. Node returns every `update` of a
 * cipher as a new Buffer whose memory lives outside the JS heap; V8 frees such memory at its next
 * young-generation GC, and starts one on its own only after about 32 MiB of it has piled up
 * (twice the largest semi-space) — per thread, and glibc keeps the pages afterwards. A worker
 * that encrypts or decrypts gigabytes calls `nudge(bytes)`; every `every` bytes it allocates and
 * drops an ArrayBuffer of 32 MiB, which makes V8 run that GC at the next allocation. The buffer
 * is zero-filled memory that is never touched (fresh pages from the kernel), so it costs address
 * space, not memory.
 */
const NUDGE = 32 << 20;

export function gcNudger(every = 8 << 20): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < every) return;
    since = 0;
    void new ArrayBuffer(NUDGE);
  };
}
