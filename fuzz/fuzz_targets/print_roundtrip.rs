//! The formatter on arbitrary programs: for every text that parses without
//! errors, the printed program parses again, to the same tree modulo
//! spans, and printing it again changes nothing (`infrac fmt` is
//! idempotent). Comments are attached as `infrac fmt` attaches them.
#![no_main]

#[path = "../../compiler/tests/unspanned/mod.rs"]
mod unspanned;

use infrac::span::FileId;
use infrac::syntax;
use libfuzzer_sys::{fuzz_target, Corpus};
use unspanned::unspanned;

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(text) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    let (original, diagnostics) = syntax::parse(FileId(0), text);
    if diagnostics.iter().any(|d| d.is_error()) {
        return Corpus::Keep;
    }
    let once = syntax::format(FileId(0), text).expect("the text parsed once already");
    let (reparsed, diagnostics) = syntax::parse(FileId(0), &once);
    assert!(
        !diagnostics.iter().any(|d| d.is_error()),
        "the printed program does not parse: {diagnostics:?}\n--- input\n{text}\n--- printed\n{once}"
    );
    assert!(
        unspanned(reparsed) == unspanned(original),
        "printing changed the tree\n--- input\n{text}\n--- printed\n{once}"
    );
    let twice = syntax::format(FileId(0), &once).expect("it parsed just above");
    assert!(
        once == twice,
        "printing is not idempotent\n--- once\n{once}\n--- twice\n{twice}"
    );
    Corpus::Keep
});
