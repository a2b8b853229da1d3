//! `check --format sarif` validated against the SARIF 2.1.0 JSON schema
//! (`schemas/sarif-2.1.0.json`, the OASIS schema as the serde-sarif crate
//! ships it; see `schemas/README.md`), formats included: every fixture,
//! incident and example, file names that are not plain URI paths, and the
//! binary's own output with `--book-url`.

use crate::common;

use std::sync::OnceLock;

use common::*;
use infrac::diagnostics::render;
use infrac::source::Sources;

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: serde_json::Value = serde_json::from_str(&read(
            &root().join("compiler/tests/schemas/sarif-2.1.0.json"),
        ))
        .expect("the schema is JSON");
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&schema)
            .expect("the schema compiles")
    })
}

/// The schema's complaints about `log`, one line each.
fn invalid(log: &str) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_str(log).expect("SARIF is JSON");
    validator()
        .iter_errors(&value)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect()
}

/// The SARIF log of checking `text` as the file `name`.
fn sarif_of(name: &str, text: &str, book_url: Option<&str>) -> String {
    let (checked, sources): (_, Sources) = check_text(name, text);
    render::sarif(&checked.diagnostics, &sources, book_url)
}

fn inf_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("a directory") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "inf") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_fixture_incident_and_example_gives_a_valid_log() {
    let mut failures = Vec::new();
    let (mut results, mut failing, mut suppressed) = (0, 0, 0);
    for dir in [
        "compiler/tests/fixtures",
        "compiler/tests/incidents",
        "examples",
    ] {
        for path in inf_files(&root().join(dir)) {
            let name = path.strip_prefix(root()).unwrap().display().to_string();
            let log = sarif_of(&name, &read(&path), Some("https://example.org/book"));
            let value: serde_json::Value = serde_json::from_str(&log).unwrap();
            let found = value["runs"][0]["results"].as_array().cloned();
            results += found.as_ref().map_or(0, Vec::len);
            suppressed += found
                .iter()
                .flatten()
                .filter(|r| r.get("suppressions").is_some())
                .count();
            failing += usize::from(name.ends_with("fail.inf"));
            failures.extend(invalid(&log).into_iter().map(|e| format!("{name}: {e}")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every failing fixture gives at least one result, and waived
    // findings (suppressions) are among them.
    assert!(
        results >= failing,
        "{results} results from {failing} fixtures"
    );
    assert!(
        failing > 30 && suppressed > 0,
        "{failing} fixtures, {suppressed} suppressed"
    );
}

#[test]
fn file_names_that_are_not_plain_uris_give_a_valid_log() {
    let text = "service cache {\n  image = \"redis:7.4.1\"\n  port 6379 public\n}\n";
    let mut failures = Vec::new();
    for name in [
        "my infra/main file.inf",
        "a#b?c%d.inf",
        "ünïcödé/主.inf",
        "C:\\Users\\me\\main.inf",
        "/abs/path/[x].inf",
        "back`tick\"quote<>.inf",
    ] {
        failures.extend(
            invalid(&sarif_of(name, text, None))
                .into_iter()
                .map(|e| format!("{name}: {e}")),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_binarys_log_is_valid() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("exposed.inf");
    std::fs::write(
        &path,
        "service cache {\n  image = \"redis:7.4.1\"\n  port 6379 public\n}\n",
    )
    .expect("writable");
    let out = run_in(
        dir.path(),
        &[
            "check",
            "--format",
            "sarif",
            "--book-url",
            "https://example.org/book/",
            "exposed.inf",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let log = String::from_utf8(out.stdout).expect("UTF-8");
    let errors = invalid(&log);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn the_schema_rejects_what_it_should() {
    // The validator is live: a log without `runs`, or a result whose
    // level is not a SARIF level, is refused.
    assert!(!invalid(r#"{"version": "2.1.0"}"#).is_empty());
    let mut log: serde_json::Value = serde_json::from_str(&sarif_of(
        "x.inf",
        "service cache {\n  image = \"redis:7.4.1\"\n  port 6379 public\n}\n",
        None,
    ))
    .unwrap();
    log["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!invalid(&log.to_string()).is_empty());
}
