//! Import benchmarks on generated compose files: the YAML of N services
//! (each with ports, an environment, networks, a volume, a dependency, a
//! health check, resources and labels) to a printed program. Budget (issue
//! 6): 1,000 services under 100 ms.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use infrac::source::Sources;

const SIZES: &[usize] = &[10, 100, 1_000];

/// A compose file of `n` services in the shapes real files use.
fn compose_file(n: usize) -> String {
    let mut out = String::from("name: bench\nx-common: &common\n  restart: unless-stopped\n  labels:\n    team: platform\nservices:\n");
    for i in 0..n {
        let dep = if i > 0 { i - 1 } else { 0 };
        out.push_str(&format!(
            "  svc-{i:05}:\n    <<: *common\n    image: ghcr.io/acme/svc-{i:05}:1.{}.0\n    command: [\"serve\", \"--port\", \"8080\"]\n    environment:\n      MODE: production\n      REGION: ${{REGION:-eu-west-1}}\n      DB_HOST: db\n    ports:\n      - \"127.0.0.1:{}:8080\"\n      - target: 9090\n        published: \"{}\"\n        protocol: tcp\n    expose:\n      - \"7000\"\n    networks: [front, back]\n    volumes:\n      - data-{i:05}:/var/lib/data\n      - ./conf/{i}.yml:/etc/svc.yml:ro\n    depends_on:\n      svc-{dep:05}:\n        condition: service_healthy\n    healthcheck:\n      test: [\"CMD\", \"wget\", \"-q\", \"-O-\", \"http://127.0.0.1:8080/healthz\"]\n      interval: 10s\n      retries: 3\n    deploy:\n      replicas: 2\n      resources:\n        limits: {{ cpus: \"0.5\", memory: 256M }}\n",
            i % 10,
            10_000 + i,
            20_000 + i,
        ));
    }
    out.push_str("networks:\n  front: {}\n  back:\n    internal: true\nvolumes:\n");
    for i in 0..n {
        out.push_str(&format!("  data-{i:05}: {{}}\n"));
    }
    out
}

fn import(c: &mut Criterion) {
    let mut group = c.benchmark_group("import");
    group.sample_size(20);
    for &n in SIZES {
        let text = compose_file(n);
        let mut sources = Sources::new();
        let id = sources.add("compose.yaml", text.clone());
        let once = infrac::import::import(&sources, id);
        assert!(!once.has_errors(), "{:?}", once.diagnostics);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &sources, |b, sources| {
            b.iter(|| {
                let imported = infrac::import::import(sources, id);
                imported.text().expect("imports")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
