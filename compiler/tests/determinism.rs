//! The same input gives the same bytes: every example built for every
//! target (`--target all` and each one alone) twice with the real binary,
//! from two working directories, compared file by file (hidden marker
//! included, modes too); `import`, `migrate`, `fmt`, `check` in every format
//! and `graph` likewise.
//!
//! What may differ, by design: the generated header and the importer's
//! comments name the source **as the user spelled it** (`examples/x/main.inf`,
//! `/abs/path/main.inf`, `main.inf`). Nothing else depends on the working
//! directory or the spelling: the project name comes from the canonical
//! path. So the tests expect byte equality for the same spelling from
//! any directory, and, across spellings, equality once the spelling is
//! substituted. For output reproducible across machines, build with a
//! relative path from the repository root.
//!
//! The trees are read from whatever the binary wrote, so a new target
//! (Terraform) is covered as soon as it writes files.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use infrac::backend::Target;

/// `all`, then every target by its CLI name.
fn targets() -> Vec<&'static str> {
    std::iter::once("all")
        .chain(Target::ALL.iter().map(|t| t.name()))
        .collect()
}

/// Builds and returns what was written; panics unless the build succeeds.
fn build(cwd: &Path, source: &str, target: &str, out: &Path) -> BTreeMap<PathBuf, Entry> {
    let o = out.to_str().unwrap();
    let run = run_in(cwd, &["build", source, "--target", target, "-o", o], &[]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "build {source} --target {target} from {}:\n{}",
        cwd.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    let written = tree(&cwd.join(out));
    assert!(
        written.contains_key(Path::new(".infrac-output")),
        "{source} {target}: no marker file"
    );
    written
}

/// `tree` with every occurrence of `from` replaced by `to` in file contents.
fn respelled(tree: &BTreeMap<PathBuf, Entry>, from: &str, to: &str) -> BTreeMap<PathBuf, Entry> {
    tree.iter()
        .map(|(p, e)| {
            let e = match e {
                Entry::File { mode, bytes } => Entry::File {
                    mode: *mode,
                    bytes: String::from_utf8(bytes.clone())
                        .expect("generated files are UTF-8")
                        .replace(from, to)
                        .into_bytes(),
                },
                Entry::Dir => Entry::Dir,
            };
            (p.clone(), e)
        })
        .collect()
}

#[test]
fn every_example_builds_the_same_bytes_for_every_target_from_anywhere() {
    let scratch = tempfile::tempdir().unwrap();
    let elsewhere = scratch.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let examples = examples();
    assert!(examples.len() >= 5, "the examples are missing");
    for (name, path) in examples {
        let rel = format!("examples/{name}/main.inf");
        let abs = path.to_str().unwrap().to_string();
        let dir = path.parent().unwrap();
        for target in targets() {
            let what = format!("{name} --target {target}");
            let out = |n: &str| scratch.path().join(format!("{name}-{target}-{n}"));
            // The same (absolute) spelling from the repository root, into an
            // absolute -o, and from elsewhere, into a relative -o.
            let a = build(&root(), &abs, target, &out("a"));
            let b = build(&elsewhere, &abs, target, Path::new("b"));
            assert_same_tree(&a, &b, &format!("{what}, from two directories"));
            std::fs::remove_dir_all(elsewhere.join("b")).unwrap();
            // Again into the same directory: the replace path writes the same.
            let again = build(&root(), &abs, target, &out("a"));
            assert_same_tree(&a, &again, &format!("{what}, rebuilt in place"));
            // Other spellings differ only where the spelling is quoted.
            let c = build(&root(), &rel, target, &out("c"));
            assert_same_tree(
                &respelled(&c, &rel, &abs),
                &a,
                &format!("{what}, spelled {rel}"),
            );
            let d = build(dir, "main.inf", target, &out("d"));
            assert_same_tree(
                &respelled(&d, "from main.inf", &format!("from {abs}")),
                &a,
                &format!("{what}, spelled main.inf from its directory"),
            );
        }
    }
}

#[test]
fn stdout_builds_are_the_same_bytes_twice() {
    for (name, path) in examples() {
        let src = path.to_str().unwrap();
        for target in targets() {
            let args = ["build", src, "--target", target, "--stdout"];
            let first = run_in(&root(), &args, &[]);
            let second = run_in(&std::env::temp_dir(), &args, &[]);
            assert_eq!(first.status.code(), Some(0), "{name} {target}");
            // Every target writes files for every example.
            assert!(!first.stdout.is_empty(), "{name} {target}: nothing printed");
            assert_eq!(first.stdout, second.stdout, "{name} {target}: stdout");
            assert_eq!(first.stderr, second.stderr, "{name} {target}: stderr");
        }
    }
}

/// A few corpus files of different shapes: a swarm stack with a
/// placement, a stack that does not check clean, an app with a database,
/// a multi-service stack with configs.
const IMPORTED: &[&str] = &[
    "seed-stacks/ch04-my-web.yml",
    "public/stefanprodan+swarmprom/docker-compose.yml",
    "public/docker+awesome-compose/gitea-postgres/compose.yaml",
    "public/deviantony+docker-elk/docker-compose.yml",
];

#[test]
fn import_and_migrate_give_the_same_bytes_twice() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: ../shared is not beside the repository");
        return;
    };
    let scratch = tempfile::tempdir().unwrap();
    for file in IMPORTED {
        let path = shared.join("corpus").join(file);
        let src = path.to_str().unwrap();
        // import to stdout, from two directories
        let args = ["import", src];
        let first = run_in(&root(), &args, &[]);
        let second = run_in(scratch.path(), &args, &[]);
        // docker-elk shares a network namespace (`network_mode: service:`),
        // an import error (E6002): the program is still printed, exit 1.
        assert!(
            matches!(first.status.code(), Some(0 | 1)),
            "{file}: {:?}",
            first.status
        );
        assert_eq!(
            first.status.code(),
            second.status.code(),
            "{file}: exit codes"
        );
        assert!(!first.stdout.is_empty(), "{file}: no program printed");
        assert_eq!(first.stdout, second.stdout, "import {file}: stdout");
        assert_eq!(first.stderr, second.stderr, "import {file}: stderr");
        // import -o with the JSON report: the same file, the same report
        let mut programs = Vec::new();
        let mut reports = Vec::new();
        for n in 0..2 {
            let out = scratch.path().join(format!("imported-{n}.inf"));
            let run = run_in(
                &root(),
                &[
                    "import",
                    src,
                    "-o",
                    out.to_str().unwrap(),
                    "--report",
                    "json",
                ],
                &[],
            );
            assert_eq!(run.status.code(), first.status.code(), "{file}");
            programs.push(std::fs::read(&out).unwrap());
            reports.push(run.stdout);
        }
        assert_eq!(programs[0], programs[1], "import -o {file}");
        assert_eq!(programs[0], first.stdout, "import -o and stdout {file}");
        assert_eq!(reports[0], reports[1], "import --report json {file}");
        // migrate to every target, twice
        for target in Target::ALL.iter().map(|t| t.name()) {
            let mut runs = Vec::new();
            for n in 0..2 {
                let out = scratch.path().join(format!("migrated-{target}-{n}"));
                let run = run_in(
                    &root(),
                    &["migrate", src, "--to", target, "-o", out.to_str().unwrap()],
                    &[],
                );
                let stderr =
                    String::from_utf8_lossy(&run.stderr).replace(out.to_str().unwrap(), "OUT");
                runs.push((run.status.code(), stderr, tree(&out)));
            }
            let what = format!("migrate {file} --to {target}");
            assert_eq!(runs[0].0, runs[1].0, "{what}: exit codes");
            assert_eq!(runs[0].1, runs[1].1, "{what}: stderr");
            assert_same_tree(&runs[0].2, &runs[1].2, &what);
        }
    }
}

/// The example with its layout spoiled: indentation doubled, blank lines
/// and trailing spaces added. Still the same program.
fn spoiled(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        out.push_str(&" ".repeat(indent * 2));
        out.push_str(line.trim_start());
        out.push_str("   \n\n");
    }
    out
}

#[test]
fn fmt_gives_the_same_bytes_twice_and_from_anywhere() {
    let scratch = tempfile::tempdir().unwrap();
    for (name, path) in examples() {
        let text = spoiled(&read(&path));
        let a = scratch.path().join(format!("{name}-a.inf"));
        let sub = scratch.path().join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        let b = sub.join(format!("{name}-b.inf"));
        std::fs::write(&a, &text).unwrap();
        std::fs::write(&b, &text).unwrap();
        let check = run_in(
            scratch.path(),
            &["fmt", "--check", a.to_str().unwrap()],
            &[],
        );
        assert_eq!(
            check.status.code(),
            Some(1),
            "{name}: spoiling changed nothing"
        );
        let first = run_in(&root(), &["fmt", a.to_str().unwrap()], &[]);
        let b_rel = format!("{name}-b.inf");
        let second = run_in(&sub, &["fmt", &b_rel], &[]);
        assert_eq!(first.status.code(), Some(0), "{name}");
        assert_eq!(second.status.code(), Some(0), "{name}");
        let (fa, fb) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        assert_eq!(fa, fb, "{name}: fmt from two directories");
        // Formatting the formatted text changes nothing.
        let again = run_in(&root(), &["fmt", a.to_str().unwrap()], &[]);
        assert_eq!(again.status.code(), Some(0));
        assert_eq!(
            std::fs::read(&a).unwrap(),
            fa,
            "{name}: fmt is not idempotent"
        );
    }
}

#[test]
fn reports_and_graphs_are_the_same_bytes_twice() {
    // Every failing fixture in one run: many findings of every code, so
    // the report order is exercised, not only single findings.
    let mut fails: Vec<String> = std::fs::read_dir(root().join("compiler/tests/fixtures"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("fail.inf"))
        .filter(|p| p.is_file())
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    fails.sort();
    assert!(fails.len() > 30, "the fixtures are missing");
    for format in ["human", "json", "sarif"] {
        let mut args = vec!["check", "--format", format];
        args.extend(fails.iter().map(String::as_str));
        let first = run_in(&root(), &args, &[]);
        let second = run_in(&std::env::temp_dir(), &args, &[]);
        assert_eq!(first.status.code(), Some(1), "{format}");
        assert_eq!(
            first.stdout, second.stdout,
            "check --format {format}: stdout"
        );
        assert_eq!(
            first.stderr, second.stderr,
            "check --format {format}: stderr"
        );
    }
    for (name, path) in examples() {
        for format in ["dot", "mermaid", "json"] {
            let args = ["graph", path.to_str().unwrap(), "--format", format];
            let first = run_in(&root(), &args, &[]);
            let second = run_in(&std::env::temp_dir(), &args, &[]);
            assert_eq!(first.status.code(), Some(0), "{name} {format}");
            assert_eq!(first.stdout, second.stdout, "graph {name} {format}");
        }
    }
}
