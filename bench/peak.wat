;; The roofline's peak: a plain wasm simd128 dot-product loop over data that stays in cache,
;; run in the same browser as the recommender. `run(n, reps)` multiplies-adds 4*n*reps floats.
(module
  (memory (export "memory") 1)
  (func (export "run") (param $n i32) (param $reps i32) (result f32)
    (local $i i32) (local $r i32) (local $acc0 v128) (local $acc1 v128) (local $acc2 v128) (local $acc3 v128)
    (local.set $r (i32.const 0))
    (block $done
      (loop $rep
        (br_if $done (i32.ge_u (local.get $r) (local.get $reps)))
        (local.set $i (i32.const 0))
        (block $end
          (loop $inner
            (br_if $end (i32.ge_u (local.get $i) (local.get $n)))
            (local.set $acc0 (f32x4.add (local.get $acc0)
              (f32x4.mul (v128.load (i32.shl (local.get $i) (i32.const 4)))
                         (v128.load offset=16384 (i32.shl (local.get $i) (i32.const 4))))))
            (local.set $acc1 (f32x4.add (local.get $acc1)
              (f32x4.mul (v128.load offset=16 (i32.shl (local.get $i) (i32.const 4)))
                         (v128.load offset=16400 (i32.shl (local.get $i) (i32.const 4))))))
            (local.set $acc2 (f32x4.add (local.get $acc2)
              (f32x4.mul (v128.load offset=32 (i32.shl (local.get $i) (i32.const 4)))
                         (v128.load offset=16416 (i32.shl (local.get $i) (i32.const 4))))))
            (local.set $acc3 (f32x4.add (local.get $acc3)
              (f32x4.mul (v128.load offset=48 (i32.shl (local.get $i) (i32.const 4)))
                         (v128.load offset=16432 (i32.shl (local.get $i) (i32.const 4))))))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $inner)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rep)))
    (f32x4.extract_lane 0 (f32x4.add (f32x4.add (local.get $acc0) (local.get $acc1)) (f32x4.add (local.get $acc2) (local.get $acc3))))))
