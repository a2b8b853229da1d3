//! The importer against real compose and stack files (`../shared/corpus`,
//! skipped when absent): every file imports without a panic; the files
//! listed below are refused with `E6001`, for the reason given; every
//! other program prints, re-parses to the same tree and checks (findings
//! are fine, that is the point); where it checks clean it is built back to
//! compose, its published ports are never wider than the original's, and
//! `docker compose config -q` (where installed) accepts the result.

use crate::common;
#[path = "import/published.rs"]
mod published;
use crate::unspanned;

use std::path::{Path, PathBuf};

use common::*;
use infrac::backend::{self, Target};
use infrac::check;
use infrac::diagnostics::{render, Code, Diagnostic};
use infrac::import::{self, Imported};
use infrac::source::Sources;
use infrac::span::FileId;
use published::*;
use unspanned::unspanned;

/// Files of the corpus the importer refuses, and why. The corpus README
/// says some fixtures are invalid on purpose.
const EXPECTED_INVALID: &[(&str, &str)] = &[(
    "seed-stacks/hello-pod.yml",
    "a Kubernetes Pod, not a compose file",
)];

/// Corpus files that do not come back as a compose file `docker compose
/// config -q` accepts, and why. The test fails when one of them starts to
/// round-trip, so the list only shrinks.
const KNOWN_ROUND_TRIP_FAILURES: &[(&str, &str)] = &[
    (
        "seed-stacks/hello-pod.yml",
        "a Kubernetes Pod: refused by the importer (E6001)",
    ),
    (
        "fixtures/docker+compose/pkg/e2e/testdata/TestLocalComposeConfigNoConsistency/compose.yaml",
        "invalid on purpose (compose's --no-consistency test): a service with no image and no build, E1006 in the program",
    ),
    (
        "fixtures/kubernetes+kompose/script/test/fixtures/etherpad/docker-compose-no-image.yml",
        "invalid on purpose (kompose's no-image test): services with no image and no build, E1006 in the program",
    ),
];

/// Override files of the corpus, which compose reads only on top of their
/// base (`docker compose -f BASE -f OVERRIDE`): each is imported merged
/// onto its base, as `infrac import BASE OVERRIDE` does.
const OVERRIDES: &[(&str, &str)] = &[
    (
        "fixtures/docker+compose/pkg/e2e/fixtures/publish/oci/compose-override.yaml",
        "fixtures/docker+compose/pkg/e2e/fixtures/publish/oci/compose.yaml",
    ),
    (
        "fixtures/kubernetes+kompose/script/test/fixtures/multiple-files/second.yaml",
        "fixtures/kubernetes+kompose/script/test/fixtures/multiple-files/first.yaml",
    ),
    (
        "fixtures/kubernetes+kompose/script/test/fixtures/unused/merge-multiple-compose/compose-new-service-prob.yml",
        "fixtures/kubernetes+kompose/script/test/fixtures/unused/merge-multiple-compose/compose-port-base.yml",
    ),
    (
        "fixtures/kubernetes+kompose/script/test/fixtures/unused/merge-multiple-compose/compose-port-prod.yml",
        "fixtures/kubernetes+kompose/script/test/fixtures/unused/merge-multiple-compose/compose-port-base.yml",
    ),
    (
        "fixtures/kubernetes+kompose/script/test/fixtures/unused/merge-multiple-compose/dev.yml",
        "fixtures/kubernetes+kompose/script/test/fixtures/unused/merge-multiple-compose/base.yml",
    ),
    (
        "public/BretFisher+dogvscat/stack-elk.override.yml",
        "public/BretFisher+dogvscat/stack-elk.yml",
    ),
];

fn corpus_files(shared: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![shared.join("corpus")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Imports a file as `infrac import` does: the files it names are read
/// from beside it.
fn import_file(path: &Path, name: &str) -> (Imported, Sources, FileId) {
    import_merged(&[(path.to_path_buf(), name.to_string())])
}

/// Imports files merged in order, as `infrac import A B` does; the id is
/// the last one's.
fn import_merged(files: &[(PathBuf, String)]) -> (Imported, Sources, FileId) {
    let mut sources = Sources::new();
    let ids: Vec<(FileId, Option<PathBuf>)> = files
        .iter()
        .map(|(path, name)| (sources.add(name.clone(), read(path)), Some(path.clone())))
        .collect();
    let imported = import::import_files(&infrac::loader::FsLoader, &mut sources, &ids);
    let last = ids.last().expect("a file").0;
    (imported, sources, last)
}

/// Checks an imported program as `infrac migrate` does: spans in the YAML.
fn check_imported(imported: &Imported, sources: &mut Sources) -> check::Checked {
    let program = imported.program.as_ref().expect("imported");
    let (modules, _) = check::load_modules(sources, program);
    check::check_parsed(program, &modules)
}

/// What happened to one corpus file on the way back to compose.
#[derive(Default)]
struct Tally {
    files: usize,
    imported: usize,
    clean: usize,
    built: usize,
    accepted: usize,
}

#[test]
fn every_corpus_file_imports_round_trips_and_rebuilds() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared is not beside the repository (set INFRAC_SHARED)");
        return;
    };
    let corpus = shared.join("corpus");
    let compose = docker_compose_available();
    if !compose {
        eprintln!("docker compose v2 is absent (scripts/install-tools.sh --validators): the rebuilt files are not validated");
    }
    let work = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut t = Tally::default();
    // Files that did not make it back to a compose file compose accepts.
    let mut round_trip_failures: Vec<(String, String)> = Vec::new();
    for path in corpus_files(&shared) {
        t.files += 1;
        let rel = path.strip_prefix(&corpus).unwrap().display().to_string();
        let expected_invalid = EXPECTED_INVALID.iter().find(|(f, _)| *f == rel);
        let mut inputs: Vec<PathBuf> = Vec::new();
        if let Some((_, base)) = OVERRIDES.iter().find(|(f, _)| *f == rel) {
            inputs.push(corpus.join(base));
        }
        inputs.push(path.clone());
        let named: Vec<(PathBuf, String)> = inputs
            .iter()
            .map(|p| {
                (
                    p.clone(),
                    p.strip_prefix(&corpus).unwrap().display().to_string(),
                )
            })
            .collect();
        let (imported, mut sources, _) = import_merged(&named);
        let Some(program) = &imported.program else {
            if expected_invalid.is_none() {
                failures.push(format!(
                    "{rel}: refused\n{}",
                    render::human(
                        &imported.diagnostics,
                        &sources,
                        &imported.redactions,
                        render::HumanStyle {
                            color: false,
                            width: 100
                        }
                    )
                ));
            }
            assert!(
                imported
                    .diagnostics
                    .iter()
                    .any(|d| d.code == Code::ImportInvalid),
                "{rel}: refused without an E6001"
            );
            round_trip_failures.push((rel, "refused by the importer".to_string()));
            continue;
        };
        if expected_invalid.is_some() {
            failures.push(format!("{rel}: listed as invalid but imported"));
        }
        t.imported += 1;
        let text = imported.text().expect("a program prints");
        let (reparsed, syntax) = infrac::syntax::parse(FileId(0), &text);
        if syntax.iter().any(Diagnostic::is_error) {
            failures.push(format!(
                "{rel}: the printed program does not parse: {syntax:?}\n{text}"
            ));
            continue;
        }
        if unspanned(reparsed) != unspanned(program.clone()) {
            failures.push(format!(
                "{rel}: printing and parsing changes the program\n{text}"
            ));
        }
        let checked = check_imported(&imported, &mut sources);
        let (by_text, _) = check_text(&rel, &text);
        let codes = |d: &[Diagnostic]| {
            let mut c: Vec<&str> = d.iter().map(|d| d.code.code()).collect();
            c.sort();
            c
        };
        if codes(&checked.diagnostics) != codes(&by_text.diagnostics) {
            failures.push(format!(
                "{rel}: checking the tree and checking its text differ: {:?} vs {:?}",
                codes(&checked.diagnostics),
                codes(&by_text.diagnostics)
            ));
        }
        if !checked.has_errors() {
            t.clean += 1;
        }
        // The round trip measures the importer and the backend, not the
        // checker's verdict: a stack with an open database is rebuilt
        // (through the library; the CLI refuses) to see that it comes back
        // as it was, no wider. Only a program whose names or values are
        // unsound has no model; for an imported program that is a bug.
        let Some(model) = checked.analysed() else {
            let mut errors: Vec<&str> = checked
                .diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.code.code())
                .collect();
            errors.dedup();
            round_trip_failures.push((rel, format!("no model: {}", errors.join(", "))));
            continue;
        };
        let options = backend::Options {
            project: "imported".to_string(),
            source: rel.clone(),
        };
        let (artifacts, found) = backend::emit(model, Target::Compose, &options);
        let Some(artifact) = artifacts.first() else {
            let mut errors: Vec<&str> = found
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.code.code())
                .collect();
            errors.dedup();
            round_trip_failures.push((rel, format!("not built: {}", errors.join(", "))));
            continue;
        };
        t.built += 1;
        let out = &artifact.contents;
        // serde_yaml refuses a key given twice in a mapping, as compose
        // does (an environment variable from `env_file` and `environment`).
        if let Err(e) = serde_yaml::from_str::<serde_yaml::Value>(out) {
            failures.push(format!("{rel}: the rebuilt compose file is refused: {e}"));
        }
        let dir = work.path().join(format!("f{}", t.files));
        std::fs::create_dir_all(&dir).unwrap();
        let original = compose
            .then(|| config_ports(&inputs))
            .flatten()
            .unwrap_or_else(|| yaml_ports(&inputs));
        for (service, ports) in rebuilt_ports(out) {
            for (container, proto, ip) in ports {
                let from: Vec<&String> = original
                    .get(&service)
                    .into_iter()
                    .flatten()
                    .filter(|(c, p, _)| *c == container && *p == proto)
                    .map(|(_, _, ip)| ip)
                    .collect();
                if !from.iter().any(|o| no_wider(&ip, o)) {
                    failures.push(format!(
                        "{rel}: `{service}` publishes {container}/{proto} on `{ip}`, wider than the original ({from:?})"
                    ));
                }
            }
        }
        if compose {
            match compose_config(&dir, out) {
                Ok(()) => t.accepted += 1,
                Err(e) => round_trip_failures.push((rel, format!("docker compose config: {e}"))),
            }
        }
    }
    eprintln!(
        "corpus: {} files, {} imported, {} check clean, {} built back to compose",
        t.files, t.imported, t.clean, t.built
    );
    // Without docker compose only the files that could not be built at
    // all are known; with it, every failure is, and the rate is measured.
    for (file, why) in &round_trip_failures {
        if !KNOWN_ROUND_TRIP_FAILURES.iter().any(|(f, _)| f == file) {
            failures.push(format!("{file} does not round-trip: {why}"));
        }
    }
    if compose {
        let rate = t.accepted as f64 / t.files as f64;
        eprintln!(
            "round trip: docker compose config -q accepts {} of {} corpus files ({:.2}%)",
            t.accepted,
            t.files,
            rate * 100.0
        );
        for (file, _) in KNOWN_ROUND_TRIP_FAILURES {
            if !round_trip_failures.iter().any(|(f, _)| f == file) {
                failures.push(format!(
                    "{file} round-trips now: take it off KNOWN_ROUND_TRIP_FAILURES"
                ));
            }
        }
        assert!(
            rate >= 0.97,
            "round-trip rate {rate:.4} is below 97%:\n{}",
            round_trip_failures
                .iter()
                .map(|(f, why)| format!("{f}: {why}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let overrides = OVERRIDES.iter().flat_map(|(a, b)| [(*a, ""), (*b, "")]);
    for (f, _) in EXPECTED_INVALID
        .iter()
        .chain(KNOWN_ROUND_TRIP_FAILURES)
        .copied()
        .chain(overrides)
    {
        assert!(
            corpus.join(f).is_file(),
            "{f} is listed but not in the corpus"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_course_stack_imports_as_snapshotted() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared is not beside the repository");
        return;
    };
    let path = shared.join("corpus/seed-stacks/ch04-my-web.yml");
    let (imported, sources, _) = import_file(&path, "seed-stacks/ch04-my-web.yml");
    let text = imported.text().expect("imports");
    let report = render::human(
        &imported.diagnostics,
        &sources,
        &imported.redactions,
        render::HumanStyle {
            color: false,
            width: 80,
        },
    );
    let doc = format!("{text}\n==> diagnostics <==\n{report}");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots/import"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("ch04-my-web", doc));
}

/// A new user imports an awesome-compose stack that publishes its database
/// on every interface: the check says so, at the YAML line of the port.
#[test]
fn databases_published_on_all_interfaces_are_found_at_their_yaml_lines() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared is not beside the repository");
        return;
    };
    if infrac::stdlib::module(infrac::stdlib::CATALOGUE).is_none() {
        eprintln!("skipped: the stdlib has no image catalogue yet, so no image is `data`");
        return;
    }
    let cases = [
        ("postgresql-pgadmin/compose.yaml", "5432:5432"),
        ("react-rust-postgres/compose.yaml", "5432:5432"),
        ("elasticsearch-logstash-kibana/compose.yaml", "9200:9200"),
    ];
    for (file, port) in cases {
        let path = shared
            .join("corpus/public/docker+awesome-compose")
            .join(file);
        let text = read(&path);
        let (imported, mut sources, id) = import_file(&path, file);
        let checked = check_imported(&imported, &mut sources);
        let expected_line = text
            .lines()
            .position(|l| l.contains(port) && l.trim_start().starts_with('-'))
            .expect("the port is in the file")
            + 1;
        let found: Vec<usize> = checked
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::DataExposed && d.primary.span.file == id)
            .map(|d| sources.get(id).line_col(d.primary.span.start as usize).0)
            .collect();
        assert!(
            found.contains(&expected_line),
            "{file}: expected data-exposed at line {expected_line}, found at {found:?}; all: {:?}",
            checked
                .diagnostics
                .iter()
                .map(|d| d.code.code())
                .collect::<Vec<_>>()
        );
    }
}

/// Truncated and mangled YAML never panics the importer: it imports, or
/// it refuses with an `E6001`.
#[test]
fn every_prefix_of_some_real_files_is_handled() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared is not beside the repository");
        return;
    };
    let files = corpus_files(&shared);
    let picked: Vec<&PathBuf> = files.iter().step_by(files.len() / 12 + 1).collect();
    for path in picked {
        let text = read(path);
        let mut variants: Vec<String> = (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .map(|i| text[..i].to_string())
            .collect();
        variants.push(text.replace(": ", ":"));
        variants.push(text.replace("  ", "\t"));
        variants.push(text.replace('-', "<<: *x\n"));
        for v in variants {
            let mut sources = Sources::new();
            let id = sources.add("mangled.yml", v.clone());
            let imported = import::import(&sources, id);
            if imported.program.is_none() {
                assert!(
                    imported
                        .diagnostics
                        .iter()
                        .any(|d| d.code == Code::ImportInvalid),
                    "refused without an E6001:\n{v}"
                );
            } else if let Some(text) = imported.text() {
                let (_, syntax) = infrac::syntax::parse(FileId(0), &text);
                assert!(
                    !syntax.iter().any(Diagnostic::is_error),
                    "the program of a mangled file does not parse:\n{v}\n---\n{text}"
                );
            }
        }
    }
}

/// `extends` (in the file and from `file:`), `include`, `env_file`,
/// configs and `-f` overrides are followed from the files beside the
/// compose file; what cannot be followed is a W6001 at its YAML location.
#[test]
fn the_files_a_compose_file_names_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    };
    write(
        "base.yaml",
        "services:\n  base:\n    image: ghcr.io/acme/api:1.4.2\n    environment:\n      MODE: base\n      LEVEL: info\n    ports:\n      - \"127.0.0.1:8080:8080\"\n",
    );
    write(".env", "# the api's settings\nLEVEL=debug\nREGION=eu-west-1\nAPI_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345\n");
    write("nginx.conf", "events {}\n");
    write(
        "tools/compose.yaml",
        "services:\n  worker:\n    image: ghcr.io/acme/worker:2.0.1\n    extends: common\n  common:\n    image: ghcr.io/acme/worker:2.0.1\n    user: \"1000\"\n",
    );
    let main = write(
        "compose.yaml",
        "include:\n  - tools/compose.yaml\nservices:\n  api:\n    extends:\n      file: base.yaml\n      service: base\n    environment:\n      MODE: prod\n    env_file: .env\n    configs:\n      - source: proxy\n        target: /etc/nginx/nginx.conf\n  web:\n    image: nginx:1.27-alpine\n    env_file: missing.env\n    extends:\n      file: nowhere.yaml\n      service: x\nconfigs:\n  proxy:\n    file: ./nginx.conf\n",
    );
    let (imported, sources, _) = import_file(&main, "compose.yaml");
    let text = imported.text().expect("imports");
    // The base service's port and variables, under the service's own.
    assert!(text.contains("port 8080 local"), "{text}");
    assert!(text.contains("MODE = \"prod\""), "{text}");
    // The merged `environment` wins over the dotenv file, as in compose.
    assert!(text.contains("LEVEL = \"info\""), "{text}");
    assert!(text.contains("REGION = \"eu-west-1\""), "{text}");
    // The token of the dotenv file became a secret, never the program.
    assert!(text.contains("secret api_token"), "{text}");
    assert!(!text.contains("ghp_0123"), "{text}");
    assert!(
        text.contains("\"./nginx.conf\" -> \"/etc/nginx/nginx.conf\" readonly"),
        "{text}"
    );
    // The included file's services, with their own `extends` resolved.
    assert!(text.contains("service worker"), "{text}");
    assert!(text.contains("user = \"1000\""), "{text}");
    let at = |d: &Diagnostic| {
        let file = sources.get(d.primary.span.file);
        let (line, col) = file.line_col(d.primary.span.start as usize);
        format!("{}:{line}:{col}", file.name)
    };
    let losses: Vec<(String, String)> = imported
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::ImportLoss)
        .map(|d| (at(d), d.message.clone()))
        .collect();
    let has = |loc: &str, words: &str| losses.iter().any(|(l, m)| l == loc && m.contains(words));
    assert!(
        has("compose.yaml:10:15", "copied into the program"),
        "{losses:#?}"
    );
    assert!(has("compose.yaml:16:15", "missing.env"), "{losses:#?}");
    assert!(has("compose.yaml:18:13", "nowhere.yaml"), "{losses:#?}");
    assert!(has("compose.yaml:2:5", "another directory"), "{losses:#?}");
    assert!(
        has("compose.yaml:21:3", "read-only bind mount"),
        "{losses:#?}"
    );
    // The credential is masked where the report shows the dotenv file.
    assert!(imported
        .redactions
        .iter()
        .any(|s| sources.get(s.file).name.ends_with(".env")));

    // From the text alone nothing is read, and each file is reported.
    let mut alone = Sources::new();
    let id = alone.add("compose.yaml", read(&main));
    let imported = import::import(&alone, id);
    let not_followed = imported
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("not followed"))
        .count();
    assert_eq!(not_followed, 5, "{:#?}", imported.diagnostics);
}
