//! The binary as a user runs it: exit codes, output formats, explain.

use crate::common;

use std::process::Command;

use common::*;

fn infrac(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_infrac"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn write_temp(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("infrac-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const EXPOSED: &str = "service db {\n  image = \"redis:7.4\"\n  port 6379 public\n}\n";

#[test]
fn missing_file_is_an_io_error() {
    let out = infrac(&["check", "/nonexistent/infra.inf"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn a_directory_is_an_io_error() {
    let dir = std::env::temp_dir();
    let out = infrac(&["check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(infrac(&["check"]).status.code(), Some(2));
    assert_eq!(infrac(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(
        infrac(&["check", "--format", "xml", "x.inf"]).status.code(),
        Some(2)
    );
}

#[test]
fn errors_exit_1_with_location() {
    let path = write_temp("exposed.inf", EXPOSED);
    let out = infrac(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("E2001(data-exposed)"), "{stderr}");
    assert!(stderr.contains("exposed.inf:3:13"), "{stderr}");
}

#[test]
fn json_parses_and_every_code_is_explained() {
    let path = write_temp("json.inf", EXPOSED);
    let out = infrac(&["check", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let items: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let items = items.as_array().expect("an array");
    assert!(!items.is_empty());
    for item in items {
        for key in [
            "code", "name", "severity", "message", "file", "line", "column", "labels", "help",
        ] {
            assert!(item.get(key).is_some(), "missing {key} in {item}");
        }
        let code = item["code"].as_str().unwrap();
        let explained = infrac(&["explain", code]);
        assert_eq!(explained.status.code(), Some(0), "explain {code}");
        assert!(String::from_utf8_lossy(&explained.stdout).starts_with(&format!("# {code}")));
    }
    // Hygiene warnings on the service's name (line 1) come first in report
    // order; the exposure finding is on the port's line.
    let exposed = items
        .iter()
        .find(|i| i["code"] == "E2001")
        .expect("the public Redis is reported");
    assert_eq!(exposed["line"], 3);
}

#[test]
fn sarif_is_a_valid_log() {
    let path = write_temp("sarif.inf", EXPOSED);
    let out = infrac(&["check", "--format", "sarif", path.to_str().unwrap()]);
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "E2001"));
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let path = write_temp("warn.inf", "service s {\n  image = \"ghcr.io/acme/s\"\n}\n");
    assert_eq!(
        infrac(&["check", path.to_str().unwrap()]).status.code(),
        Some(0)
    );
    assert_eq!(
        infrac(&["check", "--deny-warnings", path.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn explain_by_name_and_unknown() {
    let out = infrac(&["explain", "data-exposed"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# E2001 data-exposed"));
    assert_eq!(infrac(&["explain", "E9999"]).status.code(), Some(2));
}

#[test]
fn secrets_never_reach_the_report() {
    let path = write_temp("secret.inf", "service api {\n  image = \"ghcr.io/acme/api:1.4.2\"\n  env = { DB_PASSWORD = \"hunter2-very-secret\" }\n}\n");
    for format in ["human", "json", "sarif"] {
        let out = infrac(&["check", "--format", format, path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains("E3001"), "{format}: {all}");
        // The whole value: SARIF embeds the book page of E3001, whose
        // example has a (different) fake password of its own.
        assert!(
            !all.contains("hunter2-very-secret"),
            "{format} leaks the secret:\n{all}"
        );
    }
}

#[test]
fn version_and_completions() {
    let out = infrac(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    let out = infrac(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("infrac"));
}

#[test]
fn random_bytes_never_panic() {
    let path = write_temp("bytes.inf", "\u{0}\u{1}servi{ce [[[ \"\\q");
    let out = infrac(&["check", path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = root();
}

#[test]
fn graph_draws_even_a_rejected_program() {
    let path = write_temp(
        "graph.inf",
        "network edge {}\nservice jenkins {\n  image = \"jenkins/jenkins:2.462.3-lts\"\n  class = admin\n  networks = [edge]\n  port 8080 internal\n}\nservice web {\n  image = \"nginx:1.27-alpine\"\n  networks = [edge]\n  port 443 public\n  route \"ci.example.com\" -> jenkins:8080\n}\n",
    );
    let out = infrac(&["graph", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let graph: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let services = graph["services"].as_array().unwrap();
    let jenkins = services.iter().find(|s| s["name"] == "jenkins").unwrap();
    assert_eq!(jenkins["ports"][0]["declared"], "internal");
    assert_eq!(jenkins["ports"][0]["effective"], "public");
    let web = services.iter().find(|s| s["name"] == "web").unwrap();
    assert!(web["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "E2002"));
    for format in ["dot", "mermaid"] {
        let out = infrac(&["graph", "--format", format, path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("jenkins"));
    }
}

/// Where the output goes in the output-layer tests.
#[cfg(unix)]
enum Sink {
    /// A pipe whose reader is gone before the binary starts: every write
    /// fails with a broken pipe (`| head -c0`, without the race).
    Closed,
    /// `/dev/full`: every write fails with "no space left".
    Full,
}

/// Runs the binary with stdout (or, with `on_stderr`, stderr) sent to
/// `sink`; the other stream is captured.
#[cfg(unix)]
fn run_into(args: &[&str], sink: Sink, on_stderr: bool) -> (Option<i32>, String) {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::process::Stdio;
    let target: Stdio = match sink {
        Sink::Closed => {
            let mut fds = [0; 2];
            // SAFETY: `fds` has room for the two descriptors pipe() writes.
            assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
            // SAFETY: both were just opened by pipe() and are owned here.
            let (read, write) =
                unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
            drop(read);
            Stdio::from(write)
        }
        Sink::Full => Stdio::from(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        ),
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_infrac"));
    cmd.args(args).env("NO_COLOR", "1");
    let out = if on_stderr {
        cmd.stderr(target).stdout(Stdio::null()).output()
    } else {
        cmd.stdout(target).stderr(Stdio::piped()).output()
    }
    .expect("the binary runs");
    let text = match on_stderr {
        true => String::new(),
        false => String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (out.status.code(), text)
}

#[cfg(unix)]
#[test]
fn every_printing_command_ends_quietly_on_a_broken_pipe() {
    let program = root().join("examples/incident-done-right/main.inf");
    let program = program.to_str().unwrap();
    let compose = write_temp(
        "pipe.yml",
        "services:\n  web:\n    image: nginx:1.27\n    ports: ['80:80']\n",
    );
    for args in [
        &["build", program, "-t", "k8s", "--stdout"][..],
        &["import", compose.to_str().unwrap()],
        &["graph", program],
        &["graph", "--format", "json", program],
        &["check", "--format", "json", program],
        &["explain", "E2001"],
        &["completions", "bash"],
        &["workload", "10"],
    ] {
        let (code, stderr) = run_into(args, Sink::Closed, false);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn a_broken_pipe_keeps_the_verdict() {
    // A reader that stops early does not turn a rejected program into an
    // accepted one.
    let path = write_temp("pipe-exposed.inf", EXPOSED);
    let (code, stderr) = run_into(
        &["check", "--format", "json", path.to_str().unwrap()],
        Sink::Closed,
        false,
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_an_io_error_in_one_line() {
    // A program with no finding at all, waived or not (a waived one is
    // reported on stderr too, which is not what this test counts).
    let program = write_temp(
        "full-disk.inf",
        "service api {\n  image = \"ghcr.io/acme/api:1.4.2\"\n  port 8080 internal\n  health = { http = \"/healthz\", port = 8080 }\n  resources = { cpu = \"0.5\", memory = \"256Mi\" }\n}\n",
    );
    let program = program.to_str().unwrap();
    for args in [
        &["check", "--format", "json", program][..],
        &["build", program, "-t", "compose", "--stdout"],
        &["explain", "E2001"],
    ] {
        let (code, stderr) = run_into(args, Sink::Full, false);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        // One line for the IO error, and it is the last thing said (the
        // program's waived findings may be reported before it, on stderr).
        let io: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("cannot write"))
            .collect();
        assert_eq!(io.len(), 1, "{args:?}: {stderr}");
        assert!(
            io[0].contains("cannot write to stdout"),
            "{args:?}: {stderr}"
        );
        assert_eq!(stderr.lines().last(), Some(io[0]), "{args:?}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn check_with_stderr_closed_still_says_its_verdict() {
    let path = write_temp("stderr-exposed.inf", EXPOSED);
    let (code, _) = run_into(&["check", path.to_str().unwrap()], Sink::Closed, true);
    assert_eq!(code, Some(1));
    let clean = root().join("examples/incident-done-right/main.inf");
    let (code, _) = run_into(&["check", clean.to_str().unwrap()], Sink::Closed, true);
    assert_eq!(code, Some(0));
    // stderr full: the report cannot be written, which is an IO error.
    let (code, _) = run_into(&["check", path.to_str().unwrap()], Sink::Full, true);
    assert_eq!(code, Some(2));
}
