//! Every finding code has a fixture directory `fixtures/CODE/` with
//! `fail.inf`, which must produce that finding (snapshotted with its source
//! under `snapshots/errors/`), and `near-miss.inf`, a program one step away
//! that must check without errors and without that finding.
//!
//! Codes only a build reports have `build-fixtures/CODE/` the same way,
//! built for the target their first line names.
//!
//! `incidents/*.inf` are whole unsafe programs drawn from the incidents
//! behind the project, written as a new user would write them; each must be
//! rejected, and its report is snapshotted as `incident-NAME`.

use crate::common;

use common::*;
use infrac::backend::Target;
use infrac::diagnostics::Code;
use infrac::source::Sources;
use infrac::Compiled as Checked;

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
        assert_report_snapshot(&code_name, &name, &text, &checked, &sources);
    }
}

/// Snapshots the plain report under `snapshots/errors/SNAPSHOT.snap`, with
/// the source as the description so a reviewer sees both.
fn assert_report_snapshot(
    snapshot: &str,
    name: &str,
    text: &str,
    checked: &Checked,
    sources: &Sources,
) {
    assert_snapshot_of(
        snapshot,
        name,
        text,
        checked,
        sources,
        render_plain(checked, sources),
    );
}

fn assert_snapshot_of(
    snapshot: &str,
    name: &str,
    text: &str,
    checked: &Checked,
    sources: &Sources,
    report: String,
) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root().join("snapshots/errors"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(masked(text, name, checked, sources));
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(snapshot.to_string(), report));
}

/// The source with every redacted span (a secret's value) overwritten by
/// `*`, as the report shows it: a snapshot never repeats a credential, not
/// even a fixture's fake one, so secret scanners stay quiet on snapshots.
fn masked(text: &str, name: &str, checked: &Checked, sources: &Sources) -> String {
    let Some((file, _)) = sources.iter().find(|(_, f)| f.name == name) else {
        return text.to_string();
    };
    let mut bytes = text.as_bytes().to_vec();
    for span in checked.redactions.iter().filter(|s| s.file == file) {
        bytes[span.range()].fill(b'*');
    }
    // Redactions cover whole string literals, so only whole characters go.
    String::from_utf8(bytes).expect("redactions cover whole characters")
}

/// Codes only `infrac build` reports have `build-fixtures/CODE/`: a
/// `fail.inf` whose first line names the target (`// build: swarm`) and
/// whose build for it produces the code (the report snapshotted as
/// `build-CODE`), and a `near-miss.inf` that builds for that target
/// without it and without errors.
#[test]
fn build_fixtures_produce_their_finding_and_near_misses_build() {
    let dir = root().join("compiler/tests/build-fixtures");
    let mut dirs: Vec<_> = std::fs::read_dir(&dir)
        .expect("build-fixtures directory")
        .map(|e| e.expect("dir entry").path())
        .collect();
    dirs.sort();
    let mut codes = Vec::new();
    for d in dirs {
        let code_name = d.file_name().unwrap().to_string_lossy().to_string();
        let code = Code::find(&code_name).unwrap_or_else(|| panic!("{code_name} is not a code"));
        for (file, fails) in [("fail.inf", true), ("near-miss.inf", false)] {
            let text = read(&d.join(file));
            let name = format!("build-fixtures/{code_name}/{file}");
            let target = text
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("// build: "))
                .and_then(|t| Target::ALL.iter().find(|x| x.name() == t.trim()))
                .unwrap_or_else(|| panic!("{name}: its first line names no target"));
            let (checked, sources) = check_text(&name, &text);
            let model = checked.model.as_ref().unwrap_or_else(|| {
                panic!(
                    "{name} does not check:\n{}",
                    render_plain(&checked, &sources)
                )
            });
            let options = infrac::backend::Options {
                project: "fixture".into(),
                source: name.clone(),
            };
            let (_, diagnostics) = infrac::backend::emit(model, *target, &options);
            let report = infrac::diagnostics::render::human(
                &diagnostics,
                &sources,
                &checked.redactions,
                infrac::diagnostics::render::HumanStyle {
                    color: false,
                    width: 80,
                },
            );
            let produced = diagnostics.iter().any(|d| d.code == code);
            if fails {
                assert!(produced, "{name} does not produce {code_name}:\n{report}");
                let snapshot = format!("build-{code_name}");
                assert_snapshot_of(&snapshot, &name, &text, &checked, &sources, report);
            } else {
                assert!(
                    !produced && !diagnostics.iter().any(|d| d.is_error()),
                    "{name} still fails:\n{report}"
                );
            }
        }
        codes.push(code);
    }
    for code in [
        Code::RouteUnrealised,
        Code::RouteClientHidden,
        Code::RouteConflict,
        Code::RoutePlaintext,
    ] {
        assert!(
            codes.contains(&code),
            "{} has no build fixtures",
            code.code()
        );
    }
}

#[test]
fn incident_programs_are_rejected() {
    let dir = root().join("compiler/tests/incidents");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("incidents directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "inf"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "expected at least five incident programs");
    for path in files {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = read(&path);
        let name = format!("incidents/{stem}.inf");
        let (checked, sources) = check_text(&name, &text);
        assert!(
            checked.has_errors(),
            "{name} is accepted, but it is one of the incidents:\n{}",
            render_plain(&checked, &sources)
        );
        assert_report_snapshot(
            &format!("incident-{stem}"),
            &name,
            &text,
            &checked,
            &sources,
        );
    }
}

#[test]
fn near_misses_pass() {
    for dir in fixture_dirs() {
        let code_name = dir.file_name().unwrap().to_string_lossy().to_string();
        let code = Code::find(&code_name).unwrap();
        // A syntax error's near miss is simply the corrected text.
        let path = dir.join("near-miss.inf");
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
    }
}

/// Every Markdown page of the book, sorted.
fn book_pages() -> Vec<std::path::PathBuf> {
    let mut pages = Vec::new();
    let mut stack = vec![root().join("book/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("book directory") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// The codes a block documents: named in its tag (```inf error E2001,
/// several separated by spaces), or else the code whose page
/// (`errors/CODE.md`) it sits on.
fn documented_codes(page: &std::path::Path, tag: &str) -> Vec<Code> {
    let named: Vec<Code> = tag
        .split_whitespace()
        .skip(1)
        .map(|c| Code::find(c).unwrap_or_else(|| panic!("{c} is not a code")))
        .collect();
    if !named.is_empty() {
        return named;
    }
    let on_error_page = page
        .parent()
        .is_some_and(|d| d.file_name().is_some_and(|n| n == "errors"));
    let stem = page.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    on_error_page
        .then(|| Code::find(stem))
        .flatten()
        .into_iter()
        .collect()
}

/// A book block tagged `error` (or `warning`) must produce the code its
/// page documents, with that severity, unwaived; an `ok` block on a code's
/// page (the fix) must not produce it. A block tagged `error` or
/// `warning` outside a code's page names its codes in the tag.
#[test]
fn book_error_blocks_produce_the_code_their_page_documents() {
    let mut failures = Vec::new();
    let mut checked_blocks = 0;
    for page in book_pages() {
        let shown = page.strip_prefix(root()).unwrap_or(&page).display();
        for (tag, line, body) in inf_blocks(&read(&page)) {
            let kind = tag.split_whitespace().next().unwrap_or("");
            if !["ok", "error", "warning"].contains(&kind) {
                continue;
            }
            let codes = documented_codes(&page, &tag);
            if codes.is_empty() {
                if kind != "ok" {
                    failures.push(format!(
                        "{shown}:{line}: a `{kind}` block off a code's page names no code \
                         (tag it ```inf {kind} CODE)"
                    ));
                }
                continue;
            }
            let name = format!("{shown}:{line}");
            let (checked, sources) = check_text(&name, &body);
            for code in codes {
                let produced = checked
                    .diagnostics
                    .iter()
                    .any(|d| d.code == code && d.waived.is_none());
                let severity_fits = match kind {
                    "error" => code.severity() == infrac::diagnostics::Severity::Error,
                    "warning" => code.severity() == infrac::diagnostics::Severity::Warning,
                    _ => true,
                };
                let fine = match kind {
                    "ok" => !produced,
                    _ => produced && severity_fits,
                };
                if !fine {
                    failures.push(format!(
                        "{name} (tagged {tag}) {} {}:\n{}",
                        if kind == "ok" {
                            "produces"
                        } else {
                            "does not produce"
                        },
                        code.code(),
                        render_plain(&checked, &sources)
                    ));
                }
            }
            checked_blocks += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The pages under errors/ hold one failing block each, most a fix too.
    assert!(checked_blocks >= 60, "only {checked_blocks} blocks checked");
}
