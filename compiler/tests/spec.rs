//! The language sketch (`../shared/spec/LANGUAGE.md`) and the book: every
//! ```inf ok block checks clean, every ```inf error block is rejected, and
//! every ```inf warning block checks with exit 0 but warns. Skipped when
//! `../shared` is absent (a user's clone).

use crate::common;

use common::*;

fn run_blocks(file: &std::path::Path) -> Vec<String> {
    let text = read(file);
    let mut failures = Vec::new();
    for (tag, line, body) in inf_blocks(&text) {
        let name = format!("{}:{line}", file.display());
        let (checked, sources) = check_text(&name, &body);
        let errors = checked.diagnostics.iter().filter(|d| d.is_error()).count();
        let warnings = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_warning())
            .count();
        // The first word: `error E2001` names the code it documents.
        let ok = match tag.split_whitespace().next().unwrap_or("") {
            "ok" => errors == 0,
            "error" => errors > 0,
            "warning" => errors == 0 && warnings > 0,
            _ => true,
        };
        if !ok {
            failures.push(format!(
                "{name} (tagged {tag}):\n{}",
                render_plain(&checked, &sources)
            ));
        }
    }
    failures
}

#[test]
fn language_sketch_examples_behave_as_tagged() {
    let Some(shared) = shared() else {
        eprintln!("skipped: ../shared is not beside the repository");
        return;
    };
    let failures = run_blocks(&shared.join("spec/LANGUAGE.md"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn book_examples_behave_as_tagged() {
    let mut failures = Vec::new();
    let mut stack = vec![root().join("book/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                failures.extend(run_blocks(&path));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
