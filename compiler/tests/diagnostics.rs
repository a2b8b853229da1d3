//! Every finding code has a fixture directory `fixtures/CODE/` with
//! `fail.inf`, which must produce that finding (snapshotted with its source
//! under `snapshots/errors/`), and `near-miss.inf`, a program one step away
//! that must check without errors and without that finding.

mod common;

use common::*;
use infrac::diagnostics::{Code, Severity};

fn fixture_dirs() -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(root().join("compiler/tests/fixtures"))
        .expect("fixtures directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn failing_fixtures_produce_their_finding() {
    for dir in fixture_dirs() {
        let code_name = dir.file_name().unwrap().to_string_lossy().to_string();
        let code = Code::find(&code_name).unwrap_or_else(|| panic!("{code_name} is not a code"));
        let path = dir.join("fail.inf");
        let text = read(&path);
        let name = format!("{code_name}/fail.inf");
        let (checked, sources) = check_text(&name, &text);
        assert!(
            checked
                .diagnostics
                .iter()
                .any(|d| d.code == code && d.waived.is_none()),
            "{name} does not produce {code_name}; it produced: {:?}",
            checked
                .diagnostics
                .iter()
                .map(|d| d.code.code())
                .collect::<Vec<_>>()
        );
        let report = render_plain(&checked, &sources);
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(root().join("snapshots/errors"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_description(text.clone());
        settings.set_omit_expression(true);
        settings.bind(|| insta::assert_snapshot!(code_name.clone(), report));
    }
}

#[test]
fn near_misses_pass() {
    for dir in fixture_dirs() {
        let code_name = dir.file_name().unwrap().to_string_lossy().to_string();
        let code = Code::find(&code_name).unwrap();
        let path = dir.join("near-miss.inf");
        if code.code().starts_with("E0") {
            // A syntax error's near miss is simply the corrected text.
        }
        let text = read(&path);
        let name = format!("{code_name}/near-miss.inf");
        let (checked, sources) = check_text(&name, &text);
        let report = render_plain(&checked, &sources);
        assert!(
            !checked
                .diagnostics
                .iter()
                .any(|d| d.code == code && d.waived.is_none()),
            "{name} still produces {code_name}:\n{report}"
        );
        assert!(
            !checked.diagnostics.iter().any(|d| d.is_error()),
            "{name} has errors:\n{report}"
        );
        if code.severity() == Severity::Warning {
            continue;
        }
    }
}
