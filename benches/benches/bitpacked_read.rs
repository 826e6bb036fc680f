//! Criterion bench of the bit-packed read hot path: `Packed::get` (one unaligned 8-byte
//! load per value) and `Packed::decode_into` (64 values per call in one sequential pass, what
//! `ObjectView::for_each_value` uses) against a plain `Vec<u64>` baseline and a `bitvec`
//! field load, at widths seen in the catalog.

use bitvec::prelude::*;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use hollow::bits::{pack, Packed};
use std::hint::black_box;

const N: u64 = 1 << 20;

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("bitpacked_read");
    g.throughput(Throughput::Elements(N));
    for width in [3u8, 17, 38, 61] {
        let mask = if width == 64 {
            u64::MAX
        } else {
            (1u64 << width) - 1
        };
        let vals: Vec<u64> = (0..N)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & mask)
            .collect();
        let bytes = pack(vals.iter().copied(), N, width);
        let p = Packed::new(&bytes, width, N).unwrap();
        g.bench_with_input(BenchmarkId::new("packed_get", width), &p, |b, p| {
            b.iter(|| {
                let mut acc = 0u64;
                for i in 0..N {
                    acc = acc.wrapping_add(p.get_in_bounds(i));
                }
                black_box(acc)
            })
        });
        g.bench_with_input(
            BenchmarkId::new("packed_decode_into_64", width),
            &p,
            |b, p| {
                b.iter(|| {
                    let mut acc = 0u64;
                    let mut buf = [0u64; 64];
                    for start in (0..N).step_by(64) {
                        let n = p.decode_into(start, &mut buf);
                        acc = buf[..n].iter().fold(acc, |a, x| a.wrapping_add(*x));
                    }
                    black_box(acc)
                })
            },
        );
        let bv: &BitSlice<u8, Lsb0> = bytes.view_bits();
        g.bench_with_input(BenchmarkId::new("bitvec_load", width), &bv, |b, bv| {
            b.iter(|| {
                let mut acc = 0u64;
                let w = width as usize;
                for i in 0..N as usize {
                    acc = acc.wrapping_add(bv[i * w..(i + 1) * w].load_le::<u64>());
                }
                black_box(acc)
            })
        });
        g.bench_with_input(
            BenchmarkId::new("vec_u64_baseline", width),
            &vals,
            |b, v| b.iter(|| black_box(v.iter().fold(0u64, |a, x| a.wrapping_add(*x)))),
        );
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
