//! Golden files: every example, built for every target, is snapshotted
//! under `snapshots/examples/<name>/<target>.snap`, and building twice
//! gives the same bytes.
//!
//! One test per target, each running insta's `glob!` over the examples:
//! every (example, target) pair is its own assertion, and a failing one
//! does not hide the others (insta reports every mismatch of the glob,
//! and an example that does not build is reported and the rest go on).
//! `INSTA_GLOB_FILTER=quickstart/*` narrows a run to one example.

use crate::common;

use std::path::Path;

use common::*;
use infrac::backend::Target;

/// Builds the example at `path` for `target` and asserts its snapshot;
/// `Err` says why it could not be built, without a panic, so the glob
/// goes on to the next example.
fn golden(path: &Path, target: Target) -> Result<(), String> {
    let name = path
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} has no example name", path.display()))?
        .to_string();
    let text = read(path);
    let file = format!("examples/{name}/main.inf");
    let (checked, sources) = check_text(&file, &text);
    if checked.model.is_none() {
        return Err(format!(
            "{name} does not check:\n{}",
            render_plain(&checked, &sources)
        ));
    }
    let (artifacts, diagnostics) = build(&file, &text, target);
    let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        return Err(format!("{name} for {}: {errors:?}", target.name()));
    }
    let mut doc = String::new();
    for a in &artifacts {
        doc.push_str(&format!("==> {} <==\n{}", a.path.display(), a.contents));
    }
    if build(&file, &text, target).0 != artifacts {
        return Err(format!("{name} for {} is not deterministic", target.name()));
    }
    let mut settings = insta::Settings::clone_current();
    // The glob's own naming (suffix, input file) is replaced by the
    // layout the snapshots have always had: one directory per example.
    settings.remove_snapshot_suffix();
    settings.remove_input_file();
    settings.set_snapshot_path(root().join("snapshots/examples").join(&name));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(target.name(), doc));
    Ok(())
}

/// Runs [`golden`] for every example, then fails with every example that
/// could not be built.
fn every_example(target: Target) {
    let mut broken = Vec::new();
    insta::glob!("../../examples", "*/main.inf", |path| {
        if let Err(e) = golden(path, target) {
            // Printed now too: a snapshot mismatch elsewhere in the glob
            // ends the test before the summary below.
            eprintln!("{e}");
            broken.push(e);
        }
    });
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn compose() {
    every_example(Target::Compose);
}

#[test]
fn swarm() {
    every_example(Target::Swarm);
}

#[test]
fn k8s() {
    every_example(Target::K8s);
}

#[test]
fn terraform() {
    every_example(Target::Terraform);
}

/// A target added to `Target::ALL` needs its golden test above.
#[test]
fn every_target_has_a_golden_test() {
    let tested = [
        Target::Compose,
        Target::Swarm,
        Target::K8s,
        Target::Terraform,
    ];
    assert_eq!(Target::ALL, tested);
}
