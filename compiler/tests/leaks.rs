//! No leaks: secret values set in the environment never appear in a
//! generated file, on stdout or on stderr, whatever the command; literal
//! credentials written in a program or a compose file are masked in every
//! report format.
//!
//! The values are fresh random strings per run, so a match cannot be a
//! coincidence with a fixture, and each is also checked in pieces (its
//! halves), so a value cut across two lines still counts.

use crate::common;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;

use common::*;

/// A random value that looks like a password: letters and digits.
fn random_value(tag: &str) -> String {
    let mut h = RandomState::new().build_hasher();
    h.write(tag.as_bytes());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    let a = h.finish();
    h.write_u64(a);
    format!("Zq{a:016x}{:016x}", h.finish())
}

/// Every place a value must not appear in; panics naming the first.
fn assert_absent(values: &[String], haystacks: &[(String, Vec<u8>)]) {
    for (what, bytes) in haystacks {
        let text = String::from_utf8_lossy(bytes);
        for v in values {
            let (left, right) = v.split_at(v.len() / 2);
            assert!(
                !text.contains(v.as_str()) && !text.contains(left) && !text.contains(right),
                "the secret value {v} leaks into {what}:\n{text}"
            );
        }
    }
}

/// stdout and stderr of a run, and every file under `dir`.
fn outputs(what: &str, out: &std::process::Output, dir: Option<&Path>) -> Vec<(String, Vec<u8>)> {
    let mut all = vec![
        (format!("{what}: stdout"), out.stdout.clone()),
        (format!("{what}: stderr"), out.stderr.clone()),
    ];
    if let Some(dir) = dir {
        for (path, entry) in tree(dir) {
            if let Entry::File { bytes, .. } = entry {
                all.push((format!("{what}: {}", path.display()), bytes));
            }
        }
    }
    all
}

/// A program that reads secrets and passes variables through from the
/// environment, in every way the language has.
const FROM_ENV: &str = r#"
secret db_password { from = env("INFRAC_LEAK_DB") }
secret api_token { from = env("INFRAC_LEAK_TOKEN") }

network data { internal = true }

service db {
  image = "postgres:16.4"
  networks = [data]
  secrets = [db_password]
  env = { POSTGRES_PASSWORD_FILE = "/run/secrets/db_password" }
  port 5432 internal
  health = { cmd = ["pg_isready"], interval = "10s" }
  resources = { cpu = "1", memory = "1Gi" }
}

service api {
  image = "ghcr.io/acme/api:1.4.2"
  networks = [data]
  depends = [db]
  secrets = [db_password, api_token]
  env = { DB_PASSWORD_FILE = "/run/secrets/db_password", UPSTREAM = env("INFRAC_LEAK_PASS"), REGION = env("INFRAC_LEAK_REGION") }
  port 8080 internal
  health = { cmd = ["/bin/check"], interval = "10s" }
  resources = { cpu = "0.5", memory = "256Mi" }
}
"#;

#[test]
fn values_from_the_environment_never_reach_any_output() {
    let scratch = tempfile::tempdir().unwrap();
    let program = scratch.path().join("leaky.inf");
    std::fs::write(&program, FROM_ENV).unwrap();
    let mut env: Vec<(String, String)> = [
        "INFRAC_LEAK_DB",
        "INFRAC_LEAK_TOKEN",
        "INFRAC_LEAK_PASS",
        "INFRAC_LEAK_REGION",
    ]
    .iter()
    .map(|k| (k.to_string(), random_value(k)))
    .collect();
    // The examples' own secret variables, set too.
    for (name, path) in examples() {
        let text = read(&path);
        for part in text.split("env(\"").skip(1) {
            let var = part.split('"').next().unwrap().to_string();
            let value = random_value(&format!("{name}{var}"));
            env.push((var, value));
        }
    }
    let values: Vec<String> = env.iter().map(|(_, v)| v.clone()).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut programs = vec![program.clone()];
    programs.extend(examples().into_iter().map(|(_, p)| p));
    let mut seen = Vec::new();
    for (i, p) in programs.iter().enumerate() {
        let src = p.to_str().unwrap();
        let what = p.display().to_string();
        let targets =
            std::iter::once("all").chain(infrac::backend::Target::ALL.iter().map(|t| t.name()));
        for target in targets {
            let dir = scratch.path().join(format!("out-{i}-{target}"));
            let out = run_in(
                scratch.path(),
                &["build", src, "-t", target, "-o", dir.to_str().unwrap()],
                &env,
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "{what} {target}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            seen.extend(outputs(
                &format!("build {what} -t {target}"),
                &out,
                Some(&dir),
            ));
            let out = run_in(
                scratch.path(),
                &["build", src, "-t", target, "--stdout"],
                &env,
            );
            seen.extend(outputs(
                &format!("build {what} -t {target} --stdout"),
                &out,
                None,
            ));
        }
        for format in ["human", "json", "sarif"] {
            let out = run_in(scratch.path(), &["check", "--format", format, src], &env);
            seen.extend(outputs(
                &format!("check {what} --format {format}"),
                &out,
                None,
            ));
        }
        for format in ["dot", "mermaid", "json"] {
            let out = run_in(scratch.path(), &["graph", "--format", format, src], &env);
            assert_eq!(out.status.code(), Some(0), "graph {what}");
            seen.extend(outputs(
                &format!("graph {what} --format {format}"),
                &out,
                None,
            ));
        }
    }
    // fmt of a copy.
    let copy = scratch.path().join("copy.inf");
    std::fs::write(&copy, FROM_ENV).unwrap();
    let out = run_in(scratch.path(), &["fmt", copy.to_str().unwrap()], &env);
    seen.extend(outputs("fmt", &out, None));
    seen.push(("fmt: the file".into(), std::fs::read(&copy).unwrap()));
    // A compose file that interpolates the variables: compose expands
    // `${VAR}` at deploy time; the importer must keep the reference.
    let compose = scratch.path().join("compose.yaml");
    std::fs::write(
        &compose,
        "services:\n  api:\n    image: ghcr.io/acme/api:1.4.2\n    environment:\n      UPSTREAM: ${INFRAC_LEAK_PASS}\n      REGION: \"${INFRAC_LEAK_REGION:-eu}\"\n    ports:\n      - \"127.0.0.1:8080:8080\"\n",
    )
    .unwrap();
    let c = compose.to_str().unwrap();
    let out = run_in(scratch.path(), &["import", c], &env);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    seen.extend(outputs("import", &out, None));
    let imported = scratch.path().join("imported.inf");
    let out = run_in(
        scratch.path(),
        &[
            "import",
            c,
            "-o",
            imported.to_str().unwrap(),
            "--report",
            "json",
        ],
        &env,
    );
    seen.extend(outputs("import --report json", &out, None));
    seen.push(("import -o".into(), std::fs::read(&imported).unwrap()));
    for target in infrac::backend::Target::ALL.iter().map(|t| t.name()) {
        let dir = scratch.path().join(format!("migrated-{target}"));
        let out = run_in(
            scratch.path(),
            &["migrate", c, "--to", target, "-o", dir.to_str().unwrap()],
            &env,
        );
        seen.extend(outputs(&format!("migrate --to {target}"), &out, Some(&dir)));
    }
    assert!(seen.len() > 100, "too little was looked at: {}", seen.len());
    assert_absent(&values, &seen);
}

#[test]
fn literal_credentials_are_masked_in_every_report_format() {
    let scratch = tempfile::tempdir().unwrap();
    let password = random_value("password");
    let url_pass = random_value("url");
    let token = format!("ghp_{}", random_value("token"));
    let in_let = random_value("let");
    // (A `--password=VALUE` flag is not recognised as a credential in a
    // command; a token shape is.)
    let in_cmd = format!("glpat-{}", random_value("cmd"));
    let program = format!(
        r#"let key = "{in_let}"
service api {{
  image = "ghcr.io/acme/api:1.4.2"
  env = {{ DB_PASSWORD = "{password}", DATABASE = "postgres://app:{url_pass}@db:5432/app", GITHUB = "{token}", API_KEY = key }}
  command = ["serve", "--token", "{in_cmd}"]
}}
"#
    );
    let path = scratch.path().join("literal.inf");
    std::fs::write(&path, &program).unwrap();
    let src = path.to_str().unwrap();
    let values = [password, url_pass, token, in_let, in_cmd];
    let mut seen = Vec::new();
    for format in ["human", "json", "sarif"] {
        let out = run_in(scratch.path(), &["check", "--format", format, src], &[]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        let all = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        // Every literal is found: five findings of the code.
        assert!(
            all.matches("E3001").count() >= 5 || format == "sarif",
            "{format}: {all}"
        );
        assert!(all.contains("E3001"), "{format}: {all}");
        seen.extend(outputs(&format!("check --format {format}"), &out, None));
    }
    for target in ["all", "compose"] {
        let dir = scratch.path().join("out");
        let out = run_in(
            scratch.path(),
            &["build", src, "-t", target, "-o", dir.to_str().unwrap()],
            &[],
        );
        assert_eq!(out.status.code(), Some(1), "{target}");
        assert!(!dir.exists(), "a program with a plaintext secret was built");
        seen.extend(outputs(&format!("build -t {target}"), &out, None));
    }
    // graph draws a rejected program: the drawing shows no values.
    for format in ["dot", "mermaid", "json"] {
        let out = run_in(scratch.path(), &["graph", "--format", format, src], &[]);
        seen.extend(outputs(&format!("graph --format {format}"), &out, None));
    }
    assert_absent(&values, &seen);

    // The same in a compose file: import and migrate report it masked,
    // and the program or files they write hold no value either.
    let compose = scratch.path().join("compose.yaml");
    let yaml_password = random_value("yaml");
    std::fs::write(
        &compose,
        format!("services:\n  db:\n    image: postgres:16.4\n    environment:\n      POSTGRES_PASSWORD: {yaml_password}\n"),
    )
    .unwrap();
    let c = compose.to_str().unwrap();
    let mut seen = Vec::new();
    let out = run_in(
        scratch.path(),
        &[
            "import",
            c,
            "-o",
            scratch.path().join("i.inf").to_str().unwrap(),
            "--report",
            "json",
        ],
        &[],
    );
    seen.push((
        "import --report json: stdout".to_string(),
        out.stdout.clone(),
    ));
    seen.push((
        "import --report json: stderr".to_string(),
        out.stderr.clone(),
    ));
    seen.push((
        "import -o".to_string(),
        std::fs::read(scratch.path().join("i.inf")).unwrap(),
    ));
    let out = run_in(scratch.path(), &["import", c], &[]);
    seen.extend(outputs("import", &out, None));
    for target in infrac::backend::Target::ALL.iter().map(|t| t.name()) {
        let dir = scratch.path().join(format!("m-{target}"));
        let out = run_in(
            scratch.path(),
            &["migrate", c, "--to", target, "-o", dir.to_str().unwrap()],
            &[],
        );
        // The importer turns the password into a secret read from the
        // environment and says so, the line shown masked.
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("W6001") && err.contains("POSTGRES_PASSWORD: ****"),
            "migrate --to {target}: {err}"
        );
        seen.extend(outputs(&format!("migrate --to {target}"), &out, Some(&dir)));
    }
    assert_absent(&[yaml_password], &seen);
}
