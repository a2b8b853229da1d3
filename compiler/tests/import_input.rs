//! The importer's front end on the input people really have: YAML that
//! compose accepts and strict YAML 1.2 parsers do not, bytes YAML does not
//! allow, tags, and the project's `.env`. Each import-only code (6xxx) has
//! a failing and a near-miss fixture under `import-fixtures/CODE/`.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;
use infrac::diagnostics::Code;
use infrac::import::{self, Imported};
use infrac::source::Sources;

fn import_text(text: &str) -> Imported {
    let mut sources = Sources::new();
    let id = sources.add("compose.yaml", text);
    import::import(&sources, id)
}

fn import_path(path: &Path) -> (Imported, Sources) {
    let mut sources = Sources::new();
    let id = sources.add(path.display().to_string(), read(path));
    let imported = import::import_files(
        &infrac::loader::FsLoader,
        &mut sources,
        &[(id, Some(path.to_path_buf()))],
    );
    (imported, sources)
}

fn codes(i: &Imported) -> Vec<&'static str> {
    i.diagnostics.iter().map(|d| d.code.code()).collect()
}

fn fixtures() -> PathBuf {
    root().join("compiler/tests/import-fixtures")
}

#[test]
fn every_import_code_has_a_failing_and_a_near_miss_fixture() {
    for c in Code::ALL {
        let code = c.code();
        // W6005 is migrate's: its cases are in `import_roundtrip.rs`.
        if !code[1..].starts_with('6') || matches!(code, "E6001" | "W6001" | "W6005") {
            continue;
        }
        let dir = fixtures().join(code);
        let (fail, _) = import_path(&dir.join("fail.yaml"));
        assert!(
            fail.diagnostics.iter().any(|d| d.code == *c),
            "{code}/fail.yaml does not report {code}: {:?}",
            codes(&fail)
        );
        let (near, _) = import_path(&dir.join("near-miss.yaml"));
        assert!(near.program.is_some(), "{code}/near-miss.yaml is refused");
        assert!(
            !near.diagnostics.iter().any(|d| d.code == *c),
            "{code}/near-miss.yaml reports {code}"
        );
    }
}

/// Sentry's self-hosted file and the OpenTelemetry demo close flow lists
/// at their key's indentation; Go's yaml.v3 and PyYAML accept it.
#[test]
fn flow_collections_closed_at_their_keys_indentation_import() {
    let i = import_text(
        "services:\n  web:\n    image: nginx:1.27\n    command: [\n      \"nginx\",\n      \"-g\", \"daemon off;\"\n    ]\n    healthcheck:\n      test: [\n          \"CMD-SHELL\",\n          # a comment inside\n          \"true\",\n      ]\n",
    );
    let text = i.text().unwrap_or_else(|| panic!("{:#?}", i.diagnostics));
    assert!(
        text.contains(r#"command = ["nginx", "-g", "daemon off;"]"#),
        "{text}"
    );
    assert!(
        text.contains(r#"cmd = ["/bin/sh", "-c", "true"]"#),
        "{text}"
    );
}

#[test]
fn a_byte_order_mark_is_read_as_compose_reads_it() {
    let yaml =
        "\u{feff}services:\n  web:\n    image: nginx:1.27\n    ports: [\"127.0.0.1:80:80\"]\n";
    let mut sources = Sources::new();
    let id = sources.add("compose.yaml", yaml);
    let i = import::import(&sources, id);
    let text = i.text().expect("imported");
    assert!(text.contains("port 80 local"), "{text}");
    assert!(i.diagnostics.is_empty(), "{:#?}", i.diagnostics);
}

/// A NUL byte used to end the import there, silently: the services after
/// it vanished and the import passed. Compose refuses such a file; so does
/// the import, at the byte.
#[test]
fn a_nul_byte_is_refused_at_its_place_never_a_silent_end() {
    let yaml = "services:\n  web:\n    image: nginx:1.27\n    x: \"a\0b\"\n  db:\n    image: postgres:16\n    privileged: true\n    ports: [\"5432:5432\"]\n";
    let i = import_text(yaml);
    assert!(i.program.is_none(), "{:?}", i.text());
    let d = i
        .diagnostics
        .iter()
        .find(|d| d.code == Code::ImportInvalid)
        .expect("an E6001");
    assert_eq!(d.primary.span.start as usize, yaml.find('\0').unwrap());
    // Through the CLI: exit 1, nothing written.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = dir.path().join("infra.inf");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_infrac"))
        .args(["--color", "never", "import"])
        .arg(&file)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(!out.exists());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("compose.yaml:4:10"), "{stderr}");
}

/// `!!binary` used to be imported as its base64 text and other tags were
/// dropped without a word.
#[test]
fn tags_are_applied_as_compose_applies_them_or_reported() {
    let i = import_text(
        "services:\n  web:\n    image: !!str nginx:1.27\n    user: !!binary OTk5\n    working_dir: !custom /srv\n    labels: !!map { a: b }\n",
    );
    let text = i.text().expect("imported");
    assert!(text.contains(r#"user = "999""#), "{text}");
    assert!(text.contains(r#"working_dir = "/srv""#), "{text}");
    let tags: Vec<_> = i
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::ImportTag)
        .collect();
    assert_eq!(tags.len(), 1, "{:#?}", i.diagnostics);
    assert!(tags[0].message.contains("`!custom`"), "{}", tags[0].message);
    let i = import_text("services:\n  web:\n    image: nginx:1.27\n    user: !!binary \"//79\"\n");
    assert!(
        i.diagnostics
            .iter()
            .any(|d| d.code == Code::ImportTag && d.message.contains("`!!binary`")),
        "{:#?}",
        i.diagnostics
    );
}

/// The span builder used to walk the line from its start for every event.
#[test]
fn a_long_flow_line_imports_in_linear_time() {
    let mut yaml = String::from("services:\n  web:\n    image: nginx:1.27\n    command: [");
    for n in 0..30_000 {
        yaml.push_str(&format!("\"a{n}\", "));
    }
    yaml.push_str("z]\n");
    assert!(yaml.len() > 200_000);
    let started = std::time::Instant::now();
    let i = import_text(&yaml);
    assert!(i.program.is_some());
    // Seconds before; tens of milliseconds now, even unoptimised.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// `read_only: ${X}` and `expose: - ${PORT}` are typed after the `.env`
/// beside the file is interpolated, as compose does.
#[test]
fn the_env_beside_the_file_is_interpolated_before_typing() {
    let (i, _) = import_path(&fixtures().join("env/compose.yaml"));
    let text = i.text().unwrap_or_else(|| panic!("{:#?}", i.diagnostics));
    assert!(
        text.contains(r#"image = "ghcr.io/acme/api:1.4.2""#),
        "{text}"
    );
    assert!(text.contains("read_only = true"), "{text}");
    assert!(text.contains("port 8080 internal"), "{text}");
    // `.env` gives MODE (over the default); `environment` wins over
    // `env_file`; `$$` is a literal `$`.
    assert!(
        text.contains(
            r#"env = { LOG_LEVEL = "debug", MODE = "prod", WORKERS = "4", PRICE = "$5" }"#
        ),
        "{text}"
    );
    let messages: Vec<&str> = i.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(messages.len(), 1, "only the env_file copy: {messages:#?}");
}

/// Without a value, a variable in a typed field is reported at its line,
/// never a failed import; `--env-file` replaces `.env`.
#[test]
fn variables_without_a_value_are_reported_and_env_files_replace_dot_env() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    std::fs::write(
        &file,
        "services:\n  api:\n    image: x:1\n    read_only: ${RO}\n    expose:\n      - ${PORT}\n      - \"9000\"\n",
    )
    .unwrap();
    let (i, sources) = import_path(&file);
    let text = i.text().unwrap_or_else(|| panic!("{:#?}", i.diagnostics));
    assert!(text.contains("port 9000 internal"), "{text}");
    assert!(!text.contains("${"), "{text}");
    let lines: Vec<(String, usize)> = i
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("has no value"))
        .map(|d| {
            let (line, _) = sources
                .get(d.primary.span.file)
                .line_col(d.primary.span.start as usize);
            (d.message.clone(), line)
        })
        .collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert!(
        lines[0].0.contains("`${RO}`") && lines[0].1 == 4,
        "{lines:?}"
    );
    assert!(
        lines[1].0.contains("`${PORT}`") && lines[1].1 == 6,
        "{lines:?}"
    );

    let other = dir.path().join("prod.env");
    std::fs::write(&other, "RO=yes\nPORT=7000\n").unwrap();
    std::fs::write(dir.path().join(".env"), "PORT=1\n").unwrap();
    let mut sources = Sources::new();
    let id = sources.add("compose.yaml", read(&file));
    let i = import::import_files_with(
        &infrac::loader::FsLoader,
        &mut sources,
        &[(id, Some(file.clone()))],
        &import::EnvFiles::Given(vec![other]).into(),
    );
    let text = i.text().expect("imported");
    assert!(text.contains("read_only = true"), "{text}");
    assert!(text.contains("port 7000 internal"), "{text}");
    assert!(!text.contains("port 1 internal"), "{text}");
}

/// An `environment` key without a value is passed through by compose
/// from the project's `.env`, and left out of the container when that
/// does not set it (Sentry's self-hosted file has dozens): the value is
/// carried from `.env`, and an unset one is dropped, each reported at its
/// line, so the rebuilt file does not require what compose left unset.
#[test]
fn environment_keys_without_a_value_follow_the_dot_env() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("compose.yaml");
    std::fs::write(
        &file,
        "services:\n  api:\n    image: x:1\n    environment:\n      RETENTION_DAYS:\n      MAIL_HOST:\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(".env"), "RETENTION_DAYS=90\n").unwrap();
    let (i, sources) = import_path(&file);
    let text = i.text().unwrap_or_else(|| panic!("{:#?}", i.diagnostics));
    assert!(text.contains("RETENTION_DAYS = \"90\""), "{text}");
    assert!(!text.contains("MAIL_HOST"), "{text}");
    assert!(!text.contains("env("), "{text}");
    let reported: Vec<(usize, bool)> = i
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::ImportLoss)
        .map(|d| {
            let (line, _) = sources
                .get(d.primary.span.file)
                .line_col(d.primary.span.start as usize);
            (line, d.message.contains("not carried over"))
        })
        .collect();
    assert_eq!(reported, [(5, false), (6, true)], "{:#?}", i.diagnostics);
}
