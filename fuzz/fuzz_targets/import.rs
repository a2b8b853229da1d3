//! Arbitrary bytes as a compose file through `infrac import`: the importer
//! returns a program or an `E6001`, never panics; its findings point into
//! the YAML; and the program it prints always parses, to the very tree it
//! built (modulo spans: the imported tree's spans point into the YAML),
//! and checks without a panic.
#![no_main]

mod common;

#[path = "../../compiler/tests/unspanned/mod.rs"]
mod unspanned;

use infrac::loader::MemoryLoader;
use infrac::span::FileId;
use infrac::syntax;
use libfuzzer_sys::{fuzz_target, Corpus};
use std::path::PathBuf;
use unspanned::unspanned;

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(yaml) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    // Through the import's entry point, from memory: the file alone (what
    // it names is not there, and is reported as not followed).
    let loader = MemoryLoader::single("fuzz.yml", yaml);
    let (sources, imported) =
        infrac::compile::import(&loader, &[PathBuf::from("fuzz.yml")], &Default::default())
            .expect("in memory");
    common::assert_spans(&imported.diagnostics, &sources);
    common::render_all(&imported.diagnostics, &sources, &imported.redactions);
    let (Some(program), Some(text)) = (&imported.program, imported.text()) else {
        assert!(imported.has_errors(), "no program and no E6001 saying why");
        return Corpus::Keep;
    };
    let (reparsed, diagnostics) = syntax::parse(FileId(0), &text);
    assert!(
        !diagnostics.iter().any(|d| d.is_error()),
        "the imported program does not parse: {diagnostics:?}\n--- yaml\n{yaml}\n--- printed\n{text}"
    );
    assert!(
        unspanned(reparsed) == unspanned(program.clone()),
        "the printed program is not the imported tree\n--- yaml\n{yaml}\n--- printed\n{text}"
    );
    // The printed program through the program's entry point.
    let checked = infrac::compile::compile_text("fuzz.inf", &text);
    common::assert_spans(&checked.diagnostics, &checked.sources);
    Corpus::Keep
});
