//! Backends are translations of the IR: they see neither the AST nor the
//! checker nor the parser, and what they name stays distinct. (Tests that
//! check a program first live here, not in a backend's own file, for the
//! same reason.)

use std::collections::HashSet;

/// Node names that collide as Terraform identifiers (`a-b`/`a_b`) or
/// look like a generated prefix (`node_x` beside `x`) still give one
/// resource, one variable and one output key each.
#[test]
fn colliding_node_names_give_distinct_resources_and_variables() {
    let text = "provider aws { region = \"eu-west-1\" }\nnode x { role = manager }\nnode node_x {}\nnode a-b {}\nnode a_b {}\n";
    let checked = infrac::compile::compile_text("nodes.inf", text);
    let model = checked.model.expect("the program checks");
    let options = infrac::backend::Options {
        project: "nodes".into(),
        source: "nodes.inf".into(),
    };
    let (artifacts, diagnostics) =
        infrac::backend::emit(&model, infrac::backend::Target::Terraform, &options);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    for a in &artifacts {
        let body: hcl::Body = hcl::from_str(&a.contents).expect("the file parses");
        let mut seen = HashSet::new();
        for b in body.blocks() {
            let key: Vec<&str> = b.labels().iter().map(|l| l.as_str()).collect();
            assert!(
                seen.insert((b.identifier().to_string(), key.join("."))),
                "{}: {} {key:?} twice",
                a.path.display(),
                b.identifier()
            );
        }
    }
    let variables = &artifacts[1].contents;
    for v in [
        "subnet_id_x",
        "subnet_id_node_x",
        "subnet_id_a_b",
        "subnet_id_a_b_2",
    ] {
        assert!(
            variables.contains(&format!("variable \"{v}\"")),
            "{v}:\n{variables}"
        );
    }
}

/// `compiler/src/backend/` imports the IR, the diagnostics and its own
/// helpers only: what a backend needs to know is settled in the IR.
#[test]
fn backends_import_only_the_ir_and_diagnostics() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("compiler/src/backend");
    let mut stack = vec![dir];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("the backend directory reads") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&path).expect("a source file reads");
            for (n, line) in text.lines().enumerate() {
                for forbidden in [
                    "crate::check",
                    "crate::ast",
                    "crate::syntax",
                    "crate::import",
                ] {
                    assert!(
                        !line.contains(forbidden),
                        "{}:{}: a backend reaches past the IR: {line}",
                        path.display(),
                        n + 1
                    );
                }
            }
        }
    }
    assert!(files > 10, "found only {files} backend files");
}
