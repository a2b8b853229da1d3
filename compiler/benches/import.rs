//! Import benchmarks on generated compose files (`infrac::workload::compose`:
//! the architecture of the generated programs, in the shapes real files
//! use — an extension anchor, interpolation, short and long ports, named
//! and bind mounts, dependencies with conditions, health checks, `deploy`)
//! to a printed program. Budget (issue 6): 1,000 services under 100 ms.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use infrac::loader::MemoryLoader;
use std::path::PathBuf;

const SIZES: &[usize] = &[10, 100, 1_000];

fn import(c: &mut Criterion) {
    let mut group = c.benchmark_group("import");
    group.sample_size(20);
    for &n in SIZES {
        let text = infrac::workload::compose(n);
        // Through the import's entry point, as `infrac import` runs it.
        let loader = MemoryLoader::single("compose.yaml", text.as_str());
        let files = [PathBuf::from("compose.yaml")];
        let (_, once) =
            infrac::compile::import(&loader, &files, &Default::default()).expect("in memory");
        assert!(!once.has_errors(), "{:?}", once.diagnostics);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &loader, |b, loader| {
            b.iter(|| {
                let (_, imported) = infrac::compile::import(loader, &files, &Default::default())
                    .expect("in memory");
                imported.text().expect("imports")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
