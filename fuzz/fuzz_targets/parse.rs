//! Arbitrary text through the parser: it returns a tree or diagnostics,
//! never panics, never recurses without bound, and every span it reports
//! lies inside the text.
#![no_main]

mod common;

use infrac::source::Sources;
use infrac::syntax;
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    // The CLI reads files as UTF-8 and rejects anything else before the
    // parser sees it; invalid UTF-8 teaches the fuzzer nothing.
    let Ok(text) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    let mut sources = Sources::new();
    let id = sources.add("fuzz.inf", text);
    let (file, diagnostics) = syntax::parse(id, text);
    common::assert_spans(&diagnostics, &sources);
    assert!(file.span.end as usize <= text.len());
    Corpus::Keep
});
