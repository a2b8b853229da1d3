//! Compile-time benchmarks: parse, and parse + check, of generated programs
//! (`infrac::workload`) at several sizes. Budgets (see the book's
//! performance page): check of 50 services well under 5 ms; check of
//! 10,000 services under 100 ms; cost linear in N.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use infrac::source::Sources;

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    for n in [50usize, 1_000, 10_000] {
        let text = infrac::workload::program(n);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| infrac::syntax::parse(infrac::span::FileId(0), text))
        });
    }
    group.finish();
}

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    group.sample_size(20);
    for n in [10usize, 50, 100, 1_000, 10_000] {
        let text = infrac::workload::program(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| {
                let mut sources = Sources::new();
                let id = sources.add("bench.inf", text.clone());
                let checked = infrac::check::check(&mut sources, id);
                assert!(!checked.has_errors());
                checked
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse, check);
criterion_main!(benches);
