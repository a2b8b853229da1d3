//! The adversarial corpus: programs written the way an attacker or a
//! careless team would write them, grouped by the class of hole they probe
//! (`adversarial/<class>/*.inf`), and near misses that must stay clean
//! (a false positive is a bug too).
//!
//! Every file starts with its verdict:
//!
//! ```text
//! // expect: clean
//! // expect: E2001 at 7
//! // expect: E2009 at 4, E2010 at 4, W2002 at 9
//! ```
//!
//! The unwaived errors of the program must be exactly the listed `E` codes
//! at those lines (no more, no fewer); every listed `W` code must be
//! reported at its line, other warnings do not matter; `not CODE` says a
//! finding must not be reported anywhere (`// expect: clean, not W2003`).
//! `clean` means no unwaived error. One test per file (libtest-mimic), so the first failure
//! does not hide the rest and `cargo test --test adversarial NAME` runs one.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::*;
use infrac::diagnostics::Severity;
use libtest_mimic::{Arguments, Failed, Trial};

/// The corpus root.
fn corpus() -> PathBuf {
    root().join("compiler/tests/adversarial")
}

/// Every corpus file, sorted: (class, path).
fn files() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(classes) = std::fs::read_dir(corpus()) else {
        return out;
    };
    for class in classes.flatten() {
        let dir = class.path();
        if !dir.is_dir() {
            continue;
        }
        let name = class.file_name().to_string_lossy().to_string();
        for f in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "inf") {
                out.push((name.clone(), p));
            }
        }
    }
    out.sort();
    out
}

/// A verdict: (code, 1-based line); line 0 for `not CODE` (nowhere).
type Finding = (String, usize);

/// Reads the `// expect:` line; `None` for `clean`.
fn expected(text: &str) -> Result<Vec<Finding>, String> {
    let first = text.lines().next().unwrap_or("");
    let rest = first
        .strip_prefix("// expect:")
        .ok_or_else(|| format!("the first line must be `// expect: ...`, found `{first}`"))?
        .trim();
    rest.split(',')
        .filter(|item| item.trim() != "clean")
        .map(|item| {
            if let Some(code) = item.trim().strip_prefix("not ") {
                if infrac::diagnostics::Code::find(code.trim()).is_none() {
                    return Err(format!("`{code}` is not a finding code"));
                }
                return Ok((format!("!{}", code.trim()), 0));
            }
            let (code, line) = item
                .trim()
                .split_once(" at ")
                .ok_or_else(|| format!("`{item}` is not `CODE at LINE`"))?;
            let line = line
                .trim()
                .parse::<usize>()
                .map_err(|_| format!("`{line}` is not a line number"))?;
            let code = code.trim();
            if infrac::diagnostics::Code::find(code).is_none() {
                return Err(format!("`{code}` is not a finding code"));
            }
            Ok((code.to_string(), line))
        })
        .collect()
}

fn run(path: &Path) -> Result<(), Failed> {
    let text = read(path);
    let expect = expected(&text)?;
    let name = path
        .strip_prefix(corpus())
        .unwrap_or(path)
        .display()
        .to_string();
    let (checked, sources) = check_text(&name, &text);
    let main = sources
        .iter()
        .find(|(_, f)| f.name == name)
        .map(|(id, _)| id)
        .expect("the program is a source");
    let line_of = |d: &infrac::diagnostics::Diagnostic| {
        if d.primary.span.file == main {
            sources.get(main).line_col(d.primary.span.start as usize).0
        } else {
            0
        }
    };
    let errors: BTreeSet<Finding> = checked
        .diagnostics
        .iter()
        .filter(|d| d.waived.is_none() && d.code.severity() == Severity::Error)
        .map(|d| (d.code.code().to_string(), line_of(d)))
        .collect();
    let warnings: BTreeSet<Finding> = checked
        .diagnostics
        .iter()
        .filter(|d| d.waived.is_none() && d.code.severity() == Severity::Warning)
        .map(|d| (d.code.code().to_string(), line_of(d)))
        .collect();
    // `not E...` is a ban, not an expected error.
    let want_errors: BTreeSet<Finding> = expect
        .iter()
        .filter(|(c, _)| c.starts_with('E'))
        .cloned()
        .collect();
    let mut problems = Vec::new();
    for missing in want_errors.difference(&errors) {
        problems.push(format!(
            "expected {} at line {}, not reported",
            missing.0, missing.1
        ));
    }
    for extra in errors.difference(&want_errors) {
        problems.push(format!("unexpected {} at line {}", extra.0, extra.1));
    }
    for w in expect.iter().filter(|(c, _)| c.starts_with('W')) {
        if !warnings.contains(w) {
            problems.push(format!(
                "expected warning {} at line {}, not reported",
                w.0, w.1
            ));
        }
    }
    for (banned, _) in expect.iter().filter(|(c, _)| c.starts_with('!')) {
        let code = &banned[1..];
        for (c, line) in warnings.iter().chain(errors.iter()) {
            if c == code {
                problems.push(format!("{c} at line {line} must not be reported"));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}:\n  {}\n\nthe report:\n{}",
        path.display(),
        problems.join("\n  "),
        render_plain(&checked, &sources)
    )
    .into())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = files()
        .into_iter()
        .map(|(class, path)| {
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            Trial::test(format!("{class}::{stem}"), move || run(&path))
        })
        .collect();
    // The corpus is a test of its own: it exists, and every class that was
    // fixed keeps cases that fail and cases that must stay clean.
    trials.push(Trial::test("corpus_has_both_verdicts_per_class", || {
        let mut per_class: std::collections::BTreeMap<String, (usize, usize)> =
            Default::default();
        for (class, path) in files() {
            let clean = !expected(&read(&path))?
                .iter()
                .any(|(c, _)| c.starts_with('E'));
            let e = per_class.entry(class).or_default();
            if clean {
                e.1 += 1
            } else {
                e.0 += 1
            }
        }
        if per_class.is_empty() {
            return Err("the corpus is empty".into());
        }
        for (class, (failing, clean)) in per_class {
            if failing == 0 || clean == 0 {
                return Err(format!(
                    "class `{class}` has {failing} failing and {clean} clean programs: it needs both"
                )
                .into());
            }
        }
        Ok(())
    }));
    libtest_mimic::run(&args, trials).exit();
}
