//! Compile-time benchmarks on generated programs (`infrac::workload`):
//! parse alone, the checker alone (on an already parsed program: names,
//! graph, effective exposure, rules, waivers), the whole `check` as the
//! CLI runs it (`infrac::compile`, reading through a memory loader), and each backend's `emit` on a checked model (every
//! target in `Target::ALL`, with its throughput in bytes of output).
//! Budgets (the book's performance page): check of 50 services well under
//! 5 ms; the checker on 10,000 services under 100 ms; cost linear in N;
//! emission at least as fast as serde_yaml dumping the same documents
//! (`benches/floor.rs`).
//!
//! `cargo bench --bench compile -- scaling` instead prints the scaling
//! table of issue 17 (check, each emit, import at 1k / 10k / 100k, in CPU
//! seconds, with the exponent).

#[path = "cpu.rs"]
mod cpu;

use cpu::cpu_seconds;
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use infrac::backend::{self, Target};
use infrac::source::Sources;
use infrac::span::FileId;
use std::path::Path;

const SIZES: &[usize] = &[10, 50, 100, 1_000, 10_000];
const EMIT_SIZES: &[usize] = &[10, 100, 1_000, 10_000];

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.sample_size(20);
    for &n in SIZES {
        let text = infrac::workload::program(n);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| infrac::syntax::parse(FileId(0), text))
        });
    }
    group.finish();
}

fn checker(c: &mut Criterion) {
    let mut group = c.benchmark_group("checker");
    group.sample_size(20);
    for &n in SIZES {
        let text = infrac::workload::program(n);
        let mut sources = Sources::new();
        let id = sources.add("bench.inf", text.clone());
        let (ast, _) = infrac::syntax::parse(id, &text);
        let (modules, _) = infrac::check::load_modules(&mut sources, &ast);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(n),
            &(ast, modules),
            |b, (ast, modules)| {
                b.iter(|| {
                    let checked = infrac::check::check_parsed(ast, modules);
                    assert!(!checked.has_errors());
                    checked
                })
            },
        );
    }
    group.finish();
}

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    group.sample_size(20);
    for &n in SIZES {
        let text = infrac::workload::program(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            // Through the one entry point, as the CLI runs it: the memory
            // loader hands over a copy of the text, as a read would.
            let loader = infrac::loader::MemoryLoader::single("bench.inf", text.as_str());
            b.iter(|| infrac::compile(&loader, Path::new("bench.inf")).expect("in memory"))
        });
    }
    group.finish();
}

/// One group per target, so a target that lands later (terraform) is
/// measured without touching this file.
fn emit(c: &mut Criterion) {
    let models: Vec<(usize, infrac::ir::Model)> = EMIT_SIZES
        .iter()
        .map(|&n| {
            let checked = infrac::compile::compile_text("bench.inf", &infrac::workload::program(n));
            assert!(!checked.has_errors(), "the workload checks clean");
            (n, checked.model.expect("a model"))
        })
        .collect();
    let options = backend::Options {
        project: "bench".to_string(),
        source: "bench.inf".to_string(),
    };
    for &target in Target::ALL {
        let mut group = c.benchmark_group(format!("emit/{}", target.name()));
        group.sample_size(10);
        for (n, model) in &models {
            let (files, _) = backend::emit(model, target, &options);
            let bytes: usize = files.iter().map(|a| a.contents.len()).sum();
            // A target that writes nothing yet has no byte rate to report.
            match bytes {
                0 => group.throughput(Throughput::Elements(*n as u64)),
                b => group.throughput(Throughput::Bytes(b as u64)),
            };
            group.bench_with_input(BenchmarkId::from_parameter(n), model, |b, model| {
                b.iter(|| backend::emit(model, target, &options))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, parse, checker, check, emit);

/// The sizes of the scaling run (issue 17: 100k/10k at most 11×).
const SCALING: &[usize] = &[1_000, 10_000, 100_000];

/// The median CPU time of `runs` calls of `f`.
fn median_cpu<T>(runs: usize, mut f: impl FnMut() -> T) -> f64 {
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let started = cpu_seconds();
            let kept = f();
            let spent = cpu_seconds() - started;
            drop(kept);
            spent
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// `cargo bench --bench compile -- scaling`: check, each target's emit and
/// import at 1k, 10k and 100k services (the `fleet` program; import reads
/// `workload::compose`), the median CPU time of `SCALING_RUNS` runs (3)
/// each, with the ratio of each size to the one before and the exponent
/// (time ~ n^k). `SCALING_SIZES="1000 10000"` runs fewer sizes.
fn scaling() {
    let sizes: Vec<usize> = match std::env::var("SCALING_SIZES") {
        Ok(v) => v
            .split_whitespace()
            .map(|n| n.parse().expect("SCALING_SIZES: numbers"))
            .collect(),
        Err(_) => SCALING.to_vec(),
    };
    let runs: usize = std::env::var("SCALING_RUNS").map_or(3, |v| v.parse().expect("a number"));
    let options = backend::Options {
        project: "bench".to_string(),
        source: "bench.inf".to_string(),
    };
    // phase -> CPU seconds per size
    let mut rows: Vec<(String, Vec<f64>)> = Vec::new();
    let mut record = |phase: String, t: f64| match rows.iter_mut().find(|(p, _)| *p == phase) {
        Some((_, ts)) => ts.push(t),
        None => rows.push((phase, vec![t])),
    };
    for &n in &sizes {
        let text = infrac::workload::fleet(n);
        let loader = infrac::loader::MemoryLoader::single("bench.inf", text.as_str());
        let checked = infrac::compile(&loader, Path::new("bench.inf")).expect("in memory");
        assert!(checked.diagnostics.is_empty(), "the fleet checks clean");
        let model = checked.model.expect("a model");
        let t = median_cpu(runs, || {
            infrac::compile(&loader, Path::new("bench.inf")).expect("in memory")
        });
        eprintln!("check/{n}: {t:.3} CPU-s");
        record("check".to_string(), t);
        for &target in Target::ALL {
            let t = median_cpu(runs, || backend::emit(&model, target, &options));
            eprintln!("emit/{}/{n}: {t:.3} CPU-s", target.name());
            record(format!("emit {}", target.name()), t);
        }
        let compose_text = infrac::workload::compose(n);
        let compose = infrac::loader::MemoryLoader::single("compose.yaml", compose_text.as_str());
        let files = [std::path::PathBuf::from("compose.yaml")];
        // A compose file of 100,000 such services (46.5 MB) is over the
        // import's default budget (32 MiB): imported as `infrac import
        // --max-bytes 1G` imports it.
        let options = infrac::import::Options {
            budget: infrac::import::Budget {
                bytes: 1 << 30,
                ..Default::default()
            },
            ..Default::default()
        };
        let t = median_cpu(runs, || {
            let (_, imported) =
                infrac::compile::import(&compose, &files, &options).expect("in memory");
            imported.text().expect("the compose file imports")
        });
        eprintln!("import/{n}: {t:.3} CPU-s");
        record("import".to_string(), t);
    }
    // A Markdown table for the book.
    let mut head = String::from("| phase |");
    let mut rule = String::from("|---|");
    for n in &sizes {
        head.push_str(&format!(" {n} |"));
        rule.push_str("---:|");
    }
    for pair in sizes.windows(2) {
        head.push_str(&format!(" {}/{} | k |", pair[1], pair[0]));
        rule.push_str("---:|---:|");
    }
    println!("{head}\n{rule}");
    for (phase, ts) in &rows {
        let mut line = format!("| {phase} |");
        for t in ts {
            line.push_str(&format!(" {t:.3} s |"));
        }
        for (pair, ns) in ts.windows(2).zip(sizes.windows(2)) {
            let ratio = pair[1] / pair[0];
            let k = ratio.ln() / (ns[1] as f64 / ns[0] as f64).ln();
            line.push_str(&format!(" {ratio:.1}× | {k:.2} |"));
        }
        println!("{line}");
    }
}

fn main() {
    // `-- scaling` runs the scaling table instead of criterion's groups.
    if std::env::args().skip(1).any(|a| a == "scaling") {
        scaling();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
