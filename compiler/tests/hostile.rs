//! Issue 15's failures that the other suites leave open, each reproduced
//! by the real binary with a deadline: a run that blocks (a FIFO) or reads
//! without end (a device) fails the test instead of hanging it. The map of
//! every failure of the issue to its test is in book/src/internals/fuzzing.md.

use std::path::Path;
use std::time::{Duration, Instant};

/// Runs the binary in `dir` for at most 20 s: exit code, stdout, stderr.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_infrac"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("{args:?} did not finish in 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; mkfifo touches nothing else.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

/// Issue 15.3: `extends.file` naming `/dev/zero` read gigabytes, and a FIFO
/// named by `include` or `extends.file` blocked for ever (reading.rs holds
/// `env_file` and `include` of `/dev/zero`). Each is now an `E0006` at the
/// key, fast, and no program is written; `-f` of a device likewise.
#[cfg(unix)]
#[test]
fn devices_and_fifos_named_by_extends_include_or_f_are_refused_fast() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("base.yml"));
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yml")).unwrap();
    let web = "services:\n  web:\n    image: nginx:1.27\n";
    for (name, text, line) in [
        (
            "extends-zero.yml",
            format!("{web}    extends:\n      file: /dev/zero\n      service: base\n"),
            5,
        ),
        (
            "extends-fifo.yml",
            format!("{web}    extends: {{file: base.yml, service: base}}\n"),
            4,
        ),
        (
            "include-fifo.yml",
            format!("include:\n  - base.yml\n{web}"),
            2,
        ),
        (
            "include-link.yml",
            format!("include:\n  - zero.yml\n{web}"),
            2,
        ),
    ] {
        std::fs::write(dir.path().join(name), text).unwrap();
        let started = Instant::now();
        let (code, out, err) = run(dir.path(), &["import", name]);
        assert_eq!(code, Some(1), "{name}: {err}");
        assert!(
            err.contains("E0006") && err.contains(&format!("{name}:{line}:")),
            "{name}: {err}"
        );
        assert!(out.is_empty(), "{name}: a program was written: {out}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{name} was slow"
        );
    }
    std::fs::write(dir.path().join("web.yml"), web).unwrap();
    for device in ["/dev/zero", "base.yml"] {
        let (code, out, err) = run(dir.path(), &["import", "web.yml", device]);
        assert_eq!(code, Some(1), "-f {device}: {err}");
        assert!(err.contains("E0006"), "-f {device}: {err}");
        assert!(out.is_empty());
    }
    // The near miss: the same keys naming regular files import.
    std::fs::remove_file(dir.path().join("base.yml")).unwrap();
    std::fs::write(
        dir.path().join("base.yml"),
        "services:\n  base:\n    image: nginx:1.27\n",
    )
    .unwrap();
    for name in ["extends-fifo.yml", "include-fifo.yml"] {
        let (code, out, err) = run(dir.path(), &["import", name]);
        assert_eq!(code, Some(0), "{name}: {err}");
        assert!(out.contains("service web"), "{name}: {out}");
    }
}

/// Issue 15.5: as root, `import -o /dev/null` turned the system's
/// `/dev/null` into a regular file. A device node of our own (root only:
/// mknod needs it) is refused and stays a device; the test is skipped,
/// loudly, elsewhere.
#[cfg(target_os = "linux")]
#[test]
fn import_o_a_device_node_leaves_it_a_device() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("null");
    let c = std::ffi::CString::new(node.as_os_str().as_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; makes one node in our tempdir.
    let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    if made != 0 {
        eprintln!("SKIPPED: mknod needs root");
        return;
    }
    std::fs::write(
        dir.path().join("compose.yml"),
        "services:\n  web:\n    image: nginx:1.27\n",
    )
    .unwrap();
    for args in [
        &["import", "compose.yml", "-o", "null"][..],
        &["fmt", "null"],
    ] {
        let (code, _, err) = run(dir.path(), args);
        assert_ne!(code, Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        let kind = std::fs::symlink_metadata(&node).unwrap().file_type();
        assert!(kind.is_char_device(), "{args:?} replaced the device node");
    }
    // The near miss: a regular file there is replaced.
    std::fs::remove_file(&node).unwrap();
    std::fs::write(&node, "old").unwrap();
    let (code, _, err) = run(dir.path(), &["import", "compose.yml", "-o", "null"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::read_to_string(&node)
        .unwrap()
        .contains("service web"));
}
