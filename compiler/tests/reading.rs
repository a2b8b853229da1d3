//! Reading is bounded whatever the input is (issue 15): a file that is not
//! UTF-8, a device, a FIFO, a file too large, and an import that names more
//! than it may take in are each refused with their finding (exit 1), fast,
//! by the real binary. Each code has its failing case and its near miss
//! (the same input one step from the refusal, accepted).

use crate::common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

const WEB: &str = "service web {\n  image = \"nginx:1.27\"\n}\n";

#[test]
fn e0005_text_that_is_not_utf8_is_a_finding_at_its_byte() {
    let dir = tempfile::tempdir().unwrap();
    // A Latin-1 `é` (0xe9) on line 2.
    std::fs::write(
        dir.path().join("latin1.inf"),
        b"service web {\n  image = \"caf\xe9:1.27\"\n}\n",
    )
    .unwrap();
    for args in [
        &["check", "latin1.inf"][..],
        &["build", "latin1.inf", "-t", "compose", "--stdout"],
        &["graph", "latin1.inf"],
        &["fmt", "--check", "latin1.inf"],
        &["import", "latin1.inf"],
    ] {
        let (code, _, err) = run_bounded(dir.path(), args);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(err.contains("E0005"), "{args:?}: {err}");
        assert!(
            err.contains("latin1.inf:2:"),
            "{args:?} points at the byte: {err}"
        );
    }
    // The near miss: the same program in UTF-8.
    std::fs::write(
        dir.path().join("utf8.inf"),
        "service web {\n  image = \"caf\u{e9}:1.27\"\n}\n",
    )
    .unwrap();
    let (code, _, err) = run_bounded(dir.path(), &["check", "utf8.inf"]);
    assert!(!err.contains("E0005"), "{err}");
    assert_ne!(code, Some(2), "{err}");
}

#[cfg(unix)]
#[test]
fn e0006_devices_and_fifos_are_refused_without_reading_or_blocking() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("pipe.inf"));
    for args in [
        &["check", "/dev/zero"][..],
        &["check", "pipe.inf"],
        &["build", "/dev/zero", "-t", "compose", "--stdout"],
        &["import", "/dev/zero"],
        &["import", "pipe.inf"],
        &["fmt", "pipe.inf"],
    ] {
        let started = Instant::now();
        let (code, _, err) = run_bounded(dir.path(), args);
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(err.contains("E0006"), "{args:?}: {err}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{args:?} was slow"
        );
    }
    // What a compose file names is held to the same rule, at its key.
    mkfifo(&dir.path().join("pipe.env"));
    for (name, key) in [
        ("env-zero.yml", "    env_file: /dev/zero\n"),
        ("env-fifo.yml", "    env_file: pipe.env\n"),
    ] {
        let text = format!("services:\n  web:\n    image: nginx:1.27\n{key}");
        std::fs::write(dir.path().join(name), text).unwrap();
        let (code, out, err) = run_bounded(dir.path(), &["import", name]);
        assert_eq!(code, Some(1), "{name}: {err}");
        assert!(
            err.contains("E0006") && err.contains(&format!("{name}:4:")),
            "{name}: {err}"
        );
        assert!(out.is_empty(), "{name}: a program was written: {out}");
    }
    std::fs::write(
        dir.path().join("include-zero.yml"),
        "include:\n  - /dev/zero\nservices:\n  web:\n    image: nginx:1.27\n",
    )
    .unwrap();
    let (code, _, err) = run_bounded(dir.path(), &["import", "include-zero.yml"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("E0006"), "{err}");
    // The near miss: a regular env file beside it.
    std::fs::write(dir.path().join("web.env"), "LEVEL=info\n").unwrap();
    std::fs::write(
        dir.path().join("env-file.yml"),
        "services:\n  web:\n    image: nginx:1.27\n    env_file: web.env\n",
    )
    .unwrap();
    let (code, out, err) = run_bounded(dir.path(), &["import", "env-file.yml"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("LEVEL"), "{out}");
}

#[test]
fn e0007_a_file_over_the_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse: no disk is used. (big_inputs.rs also bounds the memory.)
    let f = std::fs::File::create(dir.path().join("huge.inf")).unwrap();
    f.set_len((4 << 30) + 1).unwrap();
    let started = Instant::now();
    let (code, _, err) = run_bounded(dir.path(), &["check", "huge.inf"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("E0007") && err.contains("too large"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The near miss: a file of ordinary size.
    std::fs::write(dir.path().join("small.inf"), WEB).unwrap();
    let (_, _, err) = run_bounded(dir.path(), &["check", "small.inf"]);
    assert!(!err.contains("E0007"), "{err}");
}

/// `levels` compose files, each including the next twice (`2^levels`
/// ways to reach the last), the last one defining a service.
fn doubling_includes(dir: &Path, levels: usize) {
    for level in 0..levels {
        let next = format!("level-{}.yml", level + 1);
        let text = format!(
            "include:\n  - {next}\n  - {next}\nservices:\n  s{level}:\n    image: nginx:1.27\n"
        );
        std::fs::write(dir.join(format!("level-{level}.yml")), text).unwrap();
    }
    std::fs::write(
        dir.join(format!("level-{levels}.yml")),
        "services:\n  last:\n    image: nginx:1.27\n",
    )
    .unwrap();
}

#[test]
fn e0008_an_include_tree_past_the_budget_is_refused_fast() {
    let dir = tempfile::tempdir().unwrap();
    // 2^30 ways to reach the last file: minutes and gigabytes before.
    doubling_includes(dir.path(), 30);
    let started = Instant::now();
    let (code, out, err) = run_bounded(dir.path(), &["import", "level-0.yml"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("E0008"), "{err}");
    assert!(
        err.contains("level-0.yml → level-1.yml"),
        "the chain is named: {err}"
    );
    assert!(out.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // Too many files: one file naming 300 others.
    let many: String = (0..300).map(|i| format!("  - f{i}.yml\n")).collect();
    for i in 0..300 {
        std::fs::write(
            dir.path().join(format!("f{i}.yml")),
            format!("services:\n  s{i}:\n    image: nginx:1.27\n"),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("many.yml"), format!("include:\n{many}")).unwrap();
    let (code, _, err) = run_bounded(dir.path(), &["import", "many.yml"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("E0008") && err.contains("256 files"), "{err}");
}

#[test]
fn e0008_near_miss_a_shallow_include_tree_imports_whole() {
    let dir = tempfile::tempdir().unwrap();
    doubling_includes(dir.path(), 6);
    let (code, out, err) = run_bounded(dir.path(), &["import", "level-0.yml"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("E0008"), "{err}");
    for s in ["service s0 ", "service s5 ", "service last "] {
        assert!(out.contains(s), "{s} missing:\n{out}");
    }
    let _ = root();
}
