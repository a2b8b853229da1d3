//! Compile-time benchmarks on generated programs (`infrac::workload`):
//! parse alone, the checker alone (on an already parsed program: names,
//! graph, effective exposure, rules, waivers), the whole `check` as the
//! CLI runs it (`infrac::compile`, reading through a memory loader), and each backend's `emit` on a checked model (every
//! target in `Target::ALL`, with its throughput in bytes of output).
//! Budgets (the book's performance page): check of 50 services well under
//! 5 ms; the checker on 10,000 services under 100 ms; cost linear in N;
//! emission at least as fast as serde_yaml dumping the same documents
//! (`benches/floor.rs`).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
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
criterion_main!(benches);
