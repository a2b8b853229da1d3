//! Arbitrary text through the whole front end as `infrac check` and
//! `infrac build` run it: parse, load the stdlib modules it uses, check,
//! render every finding in every format (so every span is turned into a
//! line and column and a snippet), and, when a model comes out, emit it
//! for every target.
#![no_main]

mod common;

use infrac::backend::{self, Options, Target};
use infrac::check::check;
use infrac::source::Sources;
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(text) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    let mut sources = Sources::new();
    let id = sources.add("fuzz.inf", text);
    let checked = check(&mut sources, id);
    common::assert_spans(&checked.diagnostics, &sources);
    common::render_all(&checked.diagnostics, &sources, &checked.redactions);
    if let Some(model) = &checked.model {
        let options = Options {
            project: "fuzz".into(),
            source: "fuzz.inf".into(),
        };
        // Every target: compose, swarm, Kubernetes and Terraform.
        for &target in Target::ALL {
            let (_, diagnostics) = backend::emit(model, target, &options);
            common::assert_spans(&diagnostics, &sources);
            common::render_all(&diagnostics, &sources, &checked.redactions);
        }
    }
    Corpus::Keep
});
