//! Arbitrary text through the whole front end as `infrac check` and
//! `infrac build` run it (`infrac::compile`, from memory): parse, load the stdlib modules it uses, check,
//! render every finding in every format (so every span is turned into a
//! line and column and a snippet), and, when a model comes out, emit it
//! for every target.
#![no_main]

mod common;

use infrac::backend::{self, Options, Target};
use infrac::loader::MemoryLoader;
use libfuzzer_sys::{fuzz_target, Corpus};
use std::path::Path;

fuzz_target!(|data: &[u8]| -> Corpus {
    // Bytes, not text: input that is not UTF-8 is an `E0005` at its first
    // bad byte, and that finding's span is checked like any other.
    let loader = MemoryLoader::single("fuzz.inf", data);
    let checked = infrac::compile(&loader, Path::new("fuzz.inf")).expect("in memory");
    let sources = &checked.sources;
    common::assert_spans(&checked.diagnostics, sources);
    common::render_all(&checked.diagnostics, sources, &checked.redactions);
    if let Some(model) = &checked.model {
        let options = Options {
            project: "fuzz".into(),
            source: "fuzz.inf".into(),
        };
        // Every target: compose, swarm, Kubernetes and Terraform.
        for &target in Target::ALL {
            let (_, diagnostics) = backend::emit(model, target, &options);
            common::assert_spans(&diagnostics, sources);
            common::render_all(&diagnostics, sources, &checked.redactions);
        }
    }
    Corpus::Keep
});
