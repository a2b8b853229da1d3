//! The floor the emitter is measured against: the same documents, already
//! built, serialised by serde (`serde_yaml`), and the bytes written to disk
//! alone.
//!
//! The documents are infrac's own output for the 10,000-service workload
//! (compose, and every Kubernetes manifest), read back into
//! `serde_yaml::Value` trees before timing starts, so the floor serialises
//! exactly the structure `infrac build` writes (less the comments, which
//! serde cannot express); only `serde_yaml::to_string` is timed. The byte
//! rate is of serde's own output; `serde_yaml-cpu` is the same dump timed
//! in CPU time, the measure `infrac build` is compared in (a loaded
//! machine stretches wall time, not CPU time). The `write` groups time
//! `write_atomically` (the build's writer: a staging directory, one file
//! per artifact, one rename, removal of the previous output) on the
//! artifacts of `--target all`, and one `fs::write` of the same bytes as a
//! single file. Both write under `TMPDIR` (the script sets it to the
//! directory it builds into).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use infrac::backend::{self, Artifact, Target};
use yaml_rust2::{Yaml, YamlLoader};

const N: usize = 10_000;

fn artifacts(target: Option<Target>) -> Vec<Artifact> {
    let checked = infrac::compile::compile_text("bench.inf", &infrac::workload::program(N));
    let model = checked.model.expect("the workload checks clean");
    let options = backend::Options {
        project: "bench".to_string(),
        source: "bench.inf".to_string(),
    };
    let targets = match target {
        Some(t) => vec![t],
        None => Target::ALL.to_vec(),
    };
    let mut out = Vec::new();
    for t in targets {
        out.extend(backend::emit(&model, t, &options).0);
    }
    // As `build` does: a file two targets share is written once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|a| seen.insert(a.path.clone()));
    out
}

/// A yaml-rust2 tree as the serde value of the same document, keys in order.
fn to_serde(y: &Yaml) -> serde_yaml::Value {
    use serde_yaml::Value;
    match y {
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::Number((*i).into()),
        Yaml::Real(r) => Value::Number(r.parse::<f64>().expect("a real").into()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(items) => Value::Sequence(items.iter().map(to_serde).collect()),
        Yaml::Hash(h) => {
            Value::Mapping(h.iter().map(|(k, v)| (to_serde(k), to_serde(v))).collect())
        }
        Yaml::Null => Value::Null,
        other => panic!("infrac writes no {other:?}"),
    }
}

/// Every document of every YAML file (a Kubernetes file holds all of one
/// service's objects); the proxies' configurations beside the compose
/// file are not YAML.
fn documents(artifacts: &[Artifact]) -> Vec<serde_yaml::Value> {
    artifacts
        .iter()
        .filter(|a| {
            a.path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml")
        })
        .flat_map(|a| YamlLoader::load_from_str(&a.contents).expect("generated YAML parses"))
        .map(|d| to_serde(&d))
        .collect()
}

fn floor(c: &mut Criterion) {
    let mut group = c.benchmark_group("floor");
    group.sample_size(10);
    for (label, target) in [("compose", Target::Compose), ("k8s", Target::K8s)] {
        // Only the YAML files: compose also writes `.compose-lint.yml` when
        // a program waives a finding, which the workload does not.
        let docs = documents(&artifacts(Some(target)));
        let bytes: usize = docs
            .iter()
            .map(|d| serde_yaml::to_string(d).expect("serialises").len())
            .sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        let dump = || {
            docs.iter()
                .map(|d| serde_yaml::to_string(d).expect("serialises"))
                .collect::<Vec<String>>()
        };
        group.bench_function(format!("serde_yaml/{label}/{N}"), |b| b.iter(dump));
        // The same, timed in this thread's CPU time, not wall time: what
        // `infrac build` is compared with (user + system of the process)
        // on a machine whose other work stretches the wall clock.
        #[cfg(unix)]
        group.bench_function(format!("serde_yaml-cpu/{label}/{N}"), |b| {
            b.iter_custom(|iters| {
                let start = thread_cpu();
                for _ in 0..iters {
                    std::hint::black_box(dump());
                }
                thread_cpu() - start
            })
        });
    }
    group.finish();
}

/// The CPU time this thread has used.
#[cfg(unix)]
fn thread_cpu() -> std::time::Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given, nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn write(c: &mut Criterion) {
    let all = artifacts(None);
    let bytes: usize = all.iter().map(|a| a.contents.len()).sum();
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let mut group = c.benchmark_group("write");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes as u64));
    let out = scratch.path().join("out");
    group.bench_function(format!("atomic/all/{N}"), |b| {
        b.iter(|| infrac::cli::write_atomically(&out, &all, &[]).expect("writes"))
    });
    let joined: String = all.iter().map(|a| a.contents.as_str()).collect();
    let one = scratch.path().join("one.yaml");
    group.bench_function(format!("one-file/all/{N}"), |b| {
        b.iter(|| std::fs::write(&one, &joined).expect("writes"))
    });
    group.finish();
}

criterion_group!(benches, floor, write);
criterion_main!(benches);
