//! Unit tests of the importer: small compose files in, programs out.

use super::*;

fn run(yaml: &str) -> Imported {
    let mut sources = Sources::new();
    let id = sources.add("compose.yaml", yaml);
    import(&sources, id)
}

fn codes(i: &Imported) -> Vec<&'static str> {
    i.diagnostics.iter().map(|d| d.code.code()).collect()
}

#[test]
fn not_compose_is_invalid() {
    for text in [
        "- a\n- b\n",
        "apiVersion: v1\nkind: Pod\n",
        "foo: 1\n",
        "a: [\n",
    ] {
        let i = run(text);
        assert!(i.program.is_none(), "{text}");
        assert!(codes(&i).contains(&"E6001"), "{text}");
    }
}

#[test]
fn extends_in_the_same_file_is_resolved_and_cycles_are_reported() {
    let i = run("services:\n  base:\n    image: redis:7.4\n    expose: [\"6379\"]\n  cache:\n    extends: base\n    user: \"999\"\n  a:\n    image: x:1\n    extends: { service: b }\n  b:\n    extends: a\n");
    let text = i.text().expect("imported");
    let cache = &text[text.find("service cache").expect("cache")..];
    let cache = &cache[..cache.find('}').expect("block")];
    assert!(cache.contains("image = \"redis:7.4\""), "{text}");
    assert!(cache.contains("port 6379 internal"), "{text}");
    assert!(cache.contains("user = \"999\""), "{text}");
    let cycles = i
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("leads back"))
        .count();
    assert_eq!(cycles, 2, "{:#?}", i.diagnostics);
}

#[test]
fn restart_policies_become_restart() {
    for (policy, restart) in [
        ("{ condition: none }", "no"),
        ("{ condition: any }", "always"),
        ("{ condition: on-failure }", "on-failure"),
        ("{ condition: on-failure, max_attempts: 3 }", "on-failure:3"),
    ] {
        let i = run(&format!(
            "services:\n  a:\n    image: x:1\n    deploy:\n      restart_policy: {policy}\n"
        ));
        let text = i.text().expect("imported");
        assert!(
            text.contains(&format!("restart = \"{restart}\"")),
            "{policy}: {text}"
        );
    }
    let i = run("services:\n  a:\n    image: x:1\n    restart: always\n    deploy:\n      restart_policy: { condition: none }\n");
    let text = i.text().expect("imported");
    assert!(text.contains("restart = \"always\""), "{text}");
    assert!(i
        .diagnostics
        .iter()
        .any(|d| d.message.contains("own `restart` is kept")));
}

#[test]
fn a_small_stack() {
    let i = run("services:\n  db:\n    image: redis:7.4\n    ports:\n      - \"6379:6379\"\n      - 127.0.0.1:8080:80\n    environment:\n      - DB_PASSWORD=hunter2\n      - MODE=${MODE:-prod}\n");
    let text = i.text().expect("imported");
    assert!(text.contains("port 6379 public"), "{text}");
    assert!(text.contains("port 80 local as 8080"), "{text}");
    assert!(text.contains("secret db_password"), "{text}");
    assert!(
        text.contains("DB_PASSWORD_FILE = \"/run/secrets/db_password\""),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains("MODE = \"prod\""), "{text}");
    assert!(!i.redactions.is_empty());
}
