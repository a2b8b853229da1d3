//! Arbitrary bytes as the source path a build and an import name in the
//! files they write (issue 15.4): every generated file still parses (YAML
//! with yaml-rust2, HCL with hcl-rs), holds the same documents and as many
//! lines as with a plain name, and an imported program still parses with
//! infrac's own parser to the same tree. The path only lands in comments,
//! through `infrac::comment::path`. `compiler/tests/paths.rs` holds the
//! same property as a proptest.
#![no_main]

#[path = "../../compiler/tests/documents/mod.rs"]
mod documents;
#[path = "../../compiler/tests/unspanned/mod.rs"]
mod unspanned;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::OnceLock;

use infrac::backend::{self, Artifact, Options, Target};
use infrac::ir::Model;
use infrac::source::Sources;
use infrac::{import, syntax};
use libfuzzer_sys::fuzz_target;
use documents::documents;
use unspanned::unspanned;

const PROGRAM: &str = include_str!("../../examples/quickstart/main.inf");
const COMPOSE: &str =
    "services:\n  web:\n    image: nginx:1.27\n    ports:\n      - \"8080:80\"\n  db:\n    image: postgres:16.4\n";

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        infrac::compile::compile_text("main.inf", PROGRAM)
            .model
            .expect("the example checks")
    })
}

fn build(target: Target, source: &str) -> Vec<Artifact> {
    let options = Options {
        project: "quickstart".into(),
        source: source.into(),
    };
    backend::emit(model(), target, &options).0
}

fn imported(name: &str) -> (infrac::ast::File, usize) {
    let mut sources = Sources::new();
    let id = sources.add(name, COMPOSE);
    let imported = import::import(&sources, id);
    let text = imported.text().expect("the compose file imports");
    let (file, diagnostics) = syntax::parse(id, &text);
    assert!(diagnostics.is_empty(), "{name:?}: {diagnostics:?}\n{text}");
    (unspanned(file), text.lines().count())
}

fuzz_target!(|data: &[u8]| {
    // As the CLI shows a path: bytes that are not UTF-8 replaced.
    let source = Path::new(OsStr::from_bytes(data)).display().to_string();
    for &target in Target::ALL {
        let plain = build(target, "plain.inf");
        let named = build(target, &source);
        assert_eq!(plain.len(), named.len());
        for (p, n) in plain.iter().zip(&named) {
            let expected = documents(p).expect("the plain build reads back");
            assert_eq!(
                Ok(expected),
                documents(n),
                "{source:?}: {}",
                n.path.display()
            );
            assert_eq!(
                p.contents.lines().count(),
                n.contents.lines().count(),
                "{source:?}"
            );
        }
    }
    assert!(imported(&source) == imported("compose.yaml"), "{source:?}");
});
