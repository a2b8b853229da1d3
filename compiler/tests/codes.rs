//! Codes, book pages and fixtures stay one to one: every code has a page
//! whose title names it, every checker code has fixtures, and no page or
//! fixture exists for a code that does not.

use crate::common;

use common::*;
use infrac::diagnostics::Code;

/// Codes that only `infrac build` or `infrac import` report: their fixtures
/// live with the backend and import tests (`import.rs`; the route codes'
/// in `build-fixtures/`, built by `diagnostics.rs`), not under
/// `fixtures/`, which holds `.inf` programs for the checker.
///
/// Codes about the file itself (not UTF-8, not a regular file, too large,
/// past the import's budget) cannot be `.inf` fixtures read as text: their
/// failing and near-miss cases are in `reading.rs`, run through the binary
/// on files made for the purpose.
const BUILD_ONLY: &[&str] = &[
    "E0005", "E0006", "E0007", "E0008", "E5001", "E5002", "E5003", "W5001", "W5002", "W5003",
    "W5004", "E5010", "E5015", "E5016", "E5017", "W5015", "E6001", "W6001",
];

/// Import codes (6xxx) are all build-only: their fixtures are YAML files
/// under `import-fixtures/CODE/`, checked by `import.rs`.
fn build_only(code: &str) -> bool {
    BUILD_ONLY.contains(&code) || code[1..].starts_with('6')
}

#[test]
fn codes_and_names_are_unique_and_well_formed() {
    let mut codes: Vec<&str> = Code::ALL.iter().map(|c| c.code()).collect();
    let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.name()).collect();
    for c in Code::ALL {
        let code = c.code();
        assert!(
            code.len() == 5 && (code.starts_with('E') || code.starts_with('W')),
            "{code}"
        );
        assert_eq!(
            code.starts_with('E'),
            c.severity() == infrac::diagnostics::Severity::Error,
            "{code}"
        );
        assert!(
            c.name()
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch == '-'),
            "{}",
            c.name()
        );
    }
    codes.sort();
    names.sort();
    let n = codes.len();
    codes.dedup();
    names.dedup();
    assert_eq!(codes.len(), n, "a code is used twice");
    assert_eq!(names.len(), n, "a name is used twice");
}

#[test]
fn the_sketch_names_are_fixed() {
    for name in [
        "data-exposed",
        "admin-public",
        "open-restriction",
        "plaintext-secret",
        "unreachable-dependency",
        "dependency-cycle",
        "unknown-name",
        "duplicate-name",
        "port-conflict",
        "engine-plaintext",
        "ssh-public",
        "runtime-socket",
        "privileged",
        "dangerous-capability",
        "target-cannot-enforce",
    ] {
        assert!(
            Code::find(name).is_some(),
            "the sketch's finding `{name}` is missing"
        );
    }
}

#[test]
fn every_code_has_a_page_titled_with_it() {
    for c in Code::ALL {
        let first = c.page().lines().next().unwrap_or("");
        assert_eq!(
            first,
            format!("# {} {}", c.code(), c.name()),
            "page of {}",
            c.code()
        );
        assert!(c.page().len() > 200, "the page of {} is a stub", c.code());
    }
    let pages = std::fs::read_dir(root().join("book/src/errors")).unwrap();
    for p in pages {
        let name = p.unwrap().file_name().to_string_lossy().to_string();
        if let Some(code) = name.strip_suffix(".md").filter(|n| *n != "README") {
            assert!(Code::find(code).is_some(), "page {name} has no code");
        }
    }
}

#[test]
fn every_checker_code_has_fixtures() {
    let dir = root().join("compiler/tests/fixtures");
    for c in Code::ALL {
        if build_only(c.code()) {
            continue;
        }
        let d = dir.join(c.code());
        assert!(
            d.join("fail.inf").is_file(),
            "{} has no fixtures/{}/fail.inf",
            c.name(),
            c.code()
        );
        assert!(
            d.join("near-miss.inf").is_file(),
            "{} has no fixtures/{}/near-miss.inf",
            c.name(),
            c.code()
        );
    }
}
