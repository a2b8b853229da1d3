//! Arbitrary bytes as a compose file through `infrac import`: the importer
//! returns a program or an `E6001`, never panics; its findings point into
//! the YAML; and the program it prints always parses, to the very tree it
//! built (modulo spans: the imported tree's spans point into the YAML),
//! and checks without a panic.
#![no_main]

mod common;

#[path = "../../compiler/tests/unspanned/mod.rs"]
mod unspanned;

use infrac::check::check;
use infrac::import;
use infrac::source::Sources;
use infrac::syntax;
use libfuzzer_sys::{fuzz_target, Corpus};
use unspanned::unspanned;

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(yaml) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    let mut sources = Sources::new();
    let id = sources.add("fuzz.yml", yaml);
    let imported = import::import(&sources, id);
    common::assert_spans(&imported.diagnostics, &sources);
    common::render_all(&imported.diagnostics, &sources, &imported.redactions);
    let (Some(program), Some(text)) = (&imported.program, imported.text()) else {
        assert!(imported.has_errors(), "no program and no E6001 saying why");
        return Corpus::Keep;
    };
    let inf = sources.add("fuzz.inf", text.as_str());
    let (reparsed, diagnostics) = syntax::parse(inf, &text);
    assert!(
        !diagnostics.iter().any(|d| d.is_error()),
        "the imported program does not parse: {diagnostics:?}\n--- yaml\n{yaml}\n--- printed\n{text}"
    );
    assert!(
        unspanned(reparsed) == unspanned(program.clone()),
        "the printed program is not the imported tree\n--- yaml\n{yaml}\n--- printed\n{text}"
    );
    let checked = check(&mut sources, inf);
    common::assert_spans(&checked.diagnostics, &sources);
    Corpus::Keep
});
