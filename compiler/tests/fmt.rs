//! The formatter: on every program we have (examples, fixtures, the stdlib,
//! the ```inf blocks of the sketch and the book) formatting is idempotent,
//! keeps every comment, and gives back the same syntax tree modulo spans.
//! Plus the `infrac fmt` command line: in-place rewrite, `--check`, and a
//! file with a syntax error left untouched.

use crate::common;
use crate::unspanned;

use std::path::{Path, PathBuf};

use common::*;
use infrac::span::FileId;
use infrac::syntax::{self, comments};
use unspanned::unspanned;

/// Every `.inf` text the repository (and `../shared`) holds: (name, text).
fn programs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, path) in examples() {
        out.push((format!("examples/{name}"), read(&path)));
    }
    let mut dirs = vec![
        root().join("compiler/tests/fixtures"),
        root().join("stdlib"),
    ];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "inf") {
                out.push((display(&path), read(&path)));
            }
        }
    }
    let mut markdown: Vec<PathBuf> = Vec::new();
    if let Some(shared) = shared() {
        markdown.push(shared.join("spec/LANGUAGE.md"));
    }
    let mut dirs = vec![root().join("book/src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                markdown.push(path);
            }
        }
    }
    for md in markdown {
        for (tag, line, body) in inf_blocks(&read(&md)) {
            out.push((format!("{}:{line} ({tag})", display(&md)), body));
        }
    }
    out.sort();
    out
}

fn display(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn comment_texts(text: &str) -> Vec<String> {
    comments::scan(text)
        .into_iter()
        .map(|c| c.text.trim().to_string())
        .collect()
}

#[test]
fn formatting_is_idempotent_and_keeps_tree_and_comments() {
    let programs = programs();
    assert!(
        programs.len() >= 4,
        "expected the examples at least, found {}",
        programs.len()
    );
    let mut failures = Vec::new();
    let mut formatted_count = 0;
    for (name, text) in &programs {
        let (original, diagnostics) = syntax::parse(FileId(0), text);
        if diagnostics.iter().any(|d| d.is_error()) {
            // `inf error` blocks and the fixtures of syntax findings may
            // not parse, on purpose.
            let on_purpose = name.contains("(error)")
                || (name.contains("fixtures/E0") && name.ends_with("fail.inf"));
            assert!(on_purpose, "{name} does not parse: {diagnostics:?}");
            continue;
        }
        let once = syntax::format(FileId(0), text).expect("it parsed");
        let twice = match syntax::format(FileId(0), &once) {
            Ok(t) => t,
            Err(d) => {
                failures.push(format!(
                    "{name}: the formatted text does not parse: {d:?}\n{once}"
                ));
                continue;
            }
        };
        formatted_count += 1;
        if once != twice {
            failures.push(format!(
                "{name}: not idempotent\n--- once\n{once}\n--- twice\n{twice}"
            ));
        }
        let (reparsed, _) = syntax::parse(FileId(0), &once);
        if unspanned(reparsed) != unspanned(original) {
            failures.push(format!("{name}: the tree changed\n{once}"));
        }
        let mut before = comment_texts(text);
        let mut after = comment_texts(&once);
        before.sort();
        after.sort();
        if before != after {
            failures.push(format!(
                "{name}: comments changed\nbefore: {before:?}\nafter: {after:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(formatted_count >= 4);
}

#[test]
fn tricky_layouts_round_trip() {
    let cases = [
        "let office = [\"203.0.113.7/32\", // office\n  \"198.51.100.0/24\" /* vpn */]\n",
        "service s {\n  image = \"a:1\" /* inline */ // and line\n  port 80 restricted(\n    // who\n    office\n  )\n  mounts = [data -> \"/d\" readonly, \"/h\" -> \"/x\"]\n}\n\n\n// dangling at the end\n",
        "/* block\n   over lines */\nservice s { image = \"a\\u{7}\\t\" }\n",
        "service s {\n  env = { \"a.b\" = 1, 80 = 0.5, c-d = true }\n  // nothing after\n}\n",
        "service s {\n\n  image = \"x\"\n\n\n  // kept apart\n  replicas = 2\n}\nservice t {}\n",
        "service s {\n  route \"a.example.com\" -> t:80 restricted([\"10.0.0.0/8\"]) // r\n  allow admin-public \"why \\\"not\\\"\"\n}\n",
    ];
    for text in cases {
        let once = syntax::format(FileId(0), text).expect("parses");
        let twice = syntax::format(FileId(0), &once).expect("formatted text parses");
        assert_eq!(once, twice, "not idempotent for:\n{text}");
        let (a, _) = syntax::parse(FileId(0), text);
        let (b, _) = syntax::parse(FileId(0), &once);
        assert_eq!(unspanned(a), unspanned(b), "tree changed:\n{once}");
        let mut before = comment_texts(text);
        let mut after = comment_texts(&once);
        before.sort();
        after.sort();
        assert_eq!(before, after, "comments changed:\n{once}");
    }
}

#[test]
fn fmt_rewrites_in_place_and_check_reports() {
    let dir = tempfile::tempdir().unwrap();
    let messy = dir.path().join("messy.inf");
    let clean = dir.path().join("clean.inf");
    std::fs::write(
        &messy,
        "network edge{}\nservice web { image=\"nginx:1.27\" // pinned\nnetworks=[edge] }\n",
    )
    .unwrap();
    std::fs::write(&clean, "network edge {}\n").unwrap();

    let out = infrac()
        .arg("fmt")
        .arg("--check")
        .arg(&messy)
        .arg(&clean)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("messy.inf") && !listed.contains("clean.inf"),
        "{listed}"
    );
    assert!(
        read(&messy).starts_with("network edge{}"),
        "--check wrote the file"
    );

    let out = infrac()
        .arg("fmt")
        .arg(&messy)
        .arg(&clean)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(
        read(&messy),
        "network edge {}\n\nservice web {\n  image = \"nginx:1.27\" // pinned\n  networks = [edge]\n}\n"
    );
    let out = infrac()
        .arg("fmt")
        .arg("--check")
        .arg(&messy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "temporary files left behind: {leftovers:?}"
    );
}

#[test]
fn fmt_leaves_a_file_with_a_syntax_error_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.inf");
    let text = "service web {\n  image = \n}\n";
    std::fs::write(&broken, text).unwrap();
    let out = infrac()
        .args(["--color", "never", "fmt"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("E0001"), "{stderr}");
    assert_eq!(read(&broken), text);
}
