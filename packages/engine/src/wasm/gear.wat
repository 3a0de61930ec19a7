;; The FastCDC gear cut-point finder of ../chunker.ts (docs/format.md, "Chunking"), in
;; WebAssembly: about three times the speed of the JavaScript loop, which stays as the fallback
;; (and the reference the tests compare against). Hand-written; the bytes in gear-wasm.ts are
;; generated from this file by `node scripts/build-gear-wasm.mjs` (wat2wasm from wabt).
;;
;; Memory (imported, owned by the caller): the 256-entry gear table as little-endian i32 at
;; address 0, the data anywhere from address 1024 on. `next(start, end, ...)` works on the
;; addresses [start, end) and returns what CutFinder.next returns: the length of the next chunk,
;; or -1 when no cut point exists yet and fewer than maxSize bytes are available.
(module
  (import "env" "memory" (memory 1))
  (func (export "next")
    (param $start i32) (param $end i32)
    (param $min i32) (param $avg i32) (param $max i32)
    (param $maskS i32) (param $maskL i32)
    (result i32)
    (local $i i32) (local $h i32) (local $a i32) (local $b i32)
    (local $avail i32) (local $normal i32) (local $limit i32)
    (local.set $avail (i32.sub (local.get $end) (local.get $start)))
    (if (i32.le_u (local.get $avail) (local.get $min)) (then (return (i32.const -1))))
    ;; limit = start + min(avail, max); normal = start + min(avail, avg)
    (local.set $limit (i32.add (local.get $start)
      (select (local.get $avail) (local.get $max) (i32.lt_u (local.get $avail) (local.get $max)))))
    (local.set $normal (i32.add (local.get $start)
      (select (local.get $avail) (local.get $avg) (i32.lt_u (local.get $avail) (local.get $avg)))))
    ;; No cut in the first minSize bytes: hashing starts there with h = 0.
    (local.set $i (i32.add (local.get $start) (local.get $min)))
    ;; Before avgSize: the stricter mask.
    ;; Eight bytes per iteration while eight remain before $normal, in pairs: h after two bytes is
    ;; (h << 2) + (gear[b1] << 1) + gear[b2], so the loop-carried chain is one shift and one add
    ;; per pair; h after the first byte of a pair is only tested, off that chain.
    (block $fast_done_small
      (loop $fast_small
        (br_if $fast_done_small (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $normal)))
        (local.set $a (i32.load (i32.shl (i32.load8_u offset=0 (local.get $i)) (i32.const 2))))
        (local.set $b (i32.load (i32.shl (i32.load8_u offset=1 (local.get $i)) (i32.const 2))))
        (if (i32.eqz (i32.and (i32.add (i32.shl (local.get $h) (i32.const 1)) (local.get $a)) (local.get $maskS)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 1)) (local.get $start)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 2))
                               (i32.add (i32.shl (local.get $a) (i32.const 1)) (local.get $b))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $maskS)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 2)) (local.get $start)))))
        (local.set $a (i32.load (i32.shl (i32.load8_u offset=2 (local.get $i)) (i32.const 2))))
        (local.set $b (i32.load (i32.shl (i32.load8_u offset=3 (local.get $i)) (i32.const 2))))
        (if (i32.eqz (i32.and (i32.add (i32.shl (local.get $h) (i32.const 1)) (local.get $a)) (local.get $maskS)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 3)) (local.get $start)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 2))
                               (i32.add (i32.shl (local.get $a) (i32.const 1)) (local.get $b))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $maskS)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 4)) (local.get $start)))))
        (local.set $a (i32.load (i32.shl (i32.load8_u offset=4 (local.get $i)) (i32.const 2))))
        (local.set $b (i32.load (i32.shl (i32.load8_u offset=5 (local.get $i)) (i32.const 2))))
        (if (i32.eqz (i32.and (i32.add (i32.shl (local.get $h) (i32.const 1)) (local.get $a)) (local.get $maskS)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 5)) (local.get $start)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 2))
                               (i32.add (i32.shl (local.get $a) (i32.const 1)) (local.get $b))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $maskS)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 6)) (local.get $start)))))
        (local.set $a (i32.load (i32.shl (i32.load8_u offset=6 (local.get $i)) (i32.const 2))))
        (local.set $b (i32.load (i32.shl (i32.load8_u offset=7 (local.get $i)) (i32.const 2))))
        (if (i32.eqz (i32.and (i32.add (i32.shl (local.get $h) (i32.const 1)) (local.get $a)) (local.get $maskS)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 7)) (local.get $start)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 2))
                               (i32.add (i32.shl (local.get $a) (i32.const 1)) (local.get $b))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $maskS)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 8)) (local.get $start)))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $fast_small)))
    ;; The last bytes before $normal, one at a time.
    (block $tail_done_small
      (loop $tail_small
        (br_if $tail_done_small (i32.ge_u (local.get $i) (local.get $normal)))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
                               (i32.load (i32.shl (i32.load8_u (local.get $i)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (i32.eqz (i32.and (local.get $h) (local.get $maskS)))
          (then (return (i32.sub (local.get $i) (local.get $start)))))
        (br $tail_small)))
    ;; From avgSize on: the looser mask.
    ;; Eight bytes per iteration while eight remain before $limit, in pairs: h after two bytes is
    ;; (h << 2) + (gear[b1] << 1) + gear[b2], so the loop-carried chain is one shift and one add
    ;; per pair; h after the first byte of a pair is only tested, off that chain.
    (block $fast_done_large
      (loop $fast_large
        (br_if $fast_done_large (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $limit)))
        (local.set $a (i32.load (i32.shl (i32.load8_u offset=0 (local.get $i)) (i32.const 2))))
        (local.set $b (i32.load (i32.shl (i32.load8_u offset=1 (local.get $i)) (i32.const 2))))
        (if (i32.eqz (i32.and (i32.add (i32.shl (local.get $h) (i32.const 1)) (local.get $a)) (local.get $maskL)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 1)) (local.get $start)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 2))
                               (i32.add (i32.shl (local.get $a) (i32.const 1)) (local.get $b))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $maskL)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 2)) (local.get $start)))))
        (local.set $a (i32.load (i32.shl (i32.load8_u offset=2 (local.get $i)) (i32.const 2))))
        (local.set $b (i32.load (i32.shl (i32.load8_u offset=3 (local.get $i)) (i32.const 2))))
        (if (i32.eqz (i32.and (i32.add (i32.shl (local.get $h) (i32.const 1)) (local.get $a)) (local.get $maskL)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 3)) (local.get $start)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 2))
                               (i32.add (i32.shl (local.get $a) (i32.const 1)) (local.get $b))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $maskL)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 4)) (local.get $start)))))
        (local.set $a (i32.load (i32.shl (i32.load8_u offset=4 (local.get $i)) (i32.const 2))))
        (local.set $b (i32.load (i32.shl (i32.load8_u offset=5 (local.get $i)) (i32.const 2))))
        (if (i32.eqz (i32.and (i32.add (i32.shl (local.get $h) (i32.const 1)) (local.get $a)) (local.get $maskL)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 5)) (local.get $start)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 2))
                               (i32.add (i32.shl (local.get $a) (i32.const 1)) (local.get $b))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $maskL)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 6)) (local.get $start)))))
        (local.set $a (i32.load (i32.shl (i32.load8_u offset=6 (local.get $i)) (i32.const 2))))
        (local.set $b (i32.load (i32.shl (i32.load8_u offset=7 (local.get $i)) (i32.const 2))))
        (if (i32.eqz (i32.and (i32.add (i32.shl (local.get $h) (i32.const 1)) (local.get $a)) (local.get $maskL)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 7)) (local.get $start)))))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 2))
                               (i32.add (i32.shl (local.get $a) (i32.const 1)) (local.get $b))))
        (if (i32.eqz (i32.and (local.get $h) (local.get $maskL)))
          (then (return (i32.sub (i32.add (local.get $i) (i32.const 8)) (local.get $start)))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $fast_large)))
    ;; The last bytes before $limit, one at a time.
    (block $tail_done_large
      (loop $tail_large
        (br_if $tail_done_large (i32.ge_u (local.get $i) (local.get $limit)))
        (local.set $h (i32.add (i32.shl (local.get $h) (i32.const 1))
                               (i32.load (i32.shl (i32.load8_u (local.get $i)) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (i32.eqz (i32.and (local.get $h) (local.get $maskL)))
          (then (return (i32.sub (local.get $i) (local.get $start)))))
        (br $tail_large)))
    ;; No cut point: a forced cut at maxSize, or -1 (more data needed).
    (select (local.get $max) (i32.const -1)
      (i32.eq (i32.sub (local.get $limit) (local.get $start)) (local.get $max))))
)
