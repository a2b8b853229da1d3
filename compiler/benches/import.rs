//! Import benchmarks on generated compose files (`infrac::workload::compose`:
//! the architecture of the generated programs, in the shapes real files
//! use — an extension anchor, interpolation, short and long ports, named
//! and bind mounts, dependencies with conditions, health checks, `deploy`)
//! to a printed program. Budgets (issues 6 and 14): 1,000 services under
//! 100 ms, 10,000 under 1 CPU-second, 100,000 under 12.
//!
//! Criterion samples 10 to 10,000 services; 100,000 takes seconds a run,
//! so it is imported a few times and timed once each (`import/100000`,
//! printed with the scaling exponent between the sizes). Run one with
//! `cargo bench --bench import -- 100000`, all three with `-- timed`.
//! Each timed size prints its best wall time and its best CPU time (user
//! and system of this process): on a machine shared with other builds
//! the CPU time is the figure to compare, and the exponent is computed
//! from it.

#[path = "cpu.rs"]
mod cpu;

use std::time::{Duration, Instant};

use cpu::cpu_seconds;
use criterion::{BenchmarkId, Criterion, Throughput};
use infrac::loader::MemoryLoader;
use std::path::PathBuf;

const SAMPLED: &[usize] = &[10, 100, 1_000, 10_000];
/// The timed sizes.
const TIMED: &[usize] = &[1_000, 10_000, 100_000];

/// A memory loader holding the generated file; imports run through the
/// import's entry point, as `infrac import` runs it.
fn loader(n: usize) -> MemoryLoader {
    MemoryLoader::single("compose.yaml", infrac::workload::compose(n).as_str())
}

/// The generated file is about 465 bytes a service: 100,000 services
/// (46.5 MB) are over the import's default budget (`MAX_IMPORT_BYTES`,
/// 32 MiB), so every size is imported as `infrac import --max-bytes 1G`
/// imports it. The budget only counts bytes; it costs nothing to raise.
fn import_once(loader: &MemoryLoader) -> infrac::import::Imported {
    let files = [PathBuf::from("compose.yaml")];
    let options = infrac::import::Options {
        budget: infrac::import::Budget {
            bytes: 1 << 30,
            ..Default::default()
        },
        ..Default::default()
    };
    infrac::compile::import(loader, &files, &options)
        .expect("in memory")
        .1
}

fn import(c: &mut Criterion) {
    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    for &n in SAMPLED {
        let loader = loader(n);
        let once = import_once(&loader);
        assert!(!once.has_errors(), "{:?}", once.diagnostics);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &loader, |b, loader| {
            b.iter(|| import_once(loader).text().expect("imports"))
        });
    }
    group.finish();
}

/// The best wall and the best CPU time of three imports of `n` services,
/// printed; the CPU time is returned.
fn timed(n: usize) -> Duration {
    let loader = loader(n);
    let runs: Vec<(Duration, f64)> = (0..3)
        .map(|_| {
            let (started, cpu) = (Instant::now(), cpu_seconds());
            let imported = import_once(&loader);
            let text = imported.text();
            let spent = (started.elapsed(), cpu_seconds() - cpu);
            assert!(text.is_some(), "{:?}", imported.diagnostics);
            spent
        })
        .collect();
    let wall = runs.iter().map(|r| r.0).min().expect("three runs");
    let cpu = runs.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    println!("import/{n} (timed, best of 3): {wall:.3?} wall, {cpu:.3} CPU-s");
    Duration::from_secs_f64(cpu)
}

fn main() {
    // The filter criterion would take: the first argument that is not a flag.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |n: usize| {
        filter
            .as_deref()
            .map_or(true, |f| format!("import/{n}").contains(f))
    };
    let mut c = Criterion::default().configure_from_args();
    import(&mut c);
    c.final_summary();
    // The timed sizes run only when named (`-- 100000`, `-- timed`): the
    // 100,000 case takes seconds.
    if filter.is_none() {
        return;
    }
    let times: Vec<(usize, Duration)> = TIMED
        .iter()
        .filter(|n| wanted(**n) || filter.as_deref() == Some("timed"))
        .map(|&n| (n, timed(n)))
        .collect();
    for pair in times.windows(2) {
        let ((n0, t0), (n1, t1)) = (pair[0], pair[1]);
        let k = (t1.as_secs_f64() / t0.as_secs_f64()).ln() / (n1 as f64 / n0 as f64).ln();
        println!("scaling {n0} -> {n1}: CPU time ~ n^{k:.2}");
    }
}
