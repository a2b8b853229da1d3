//! A whole compose project through `infrac import`, from memory: the
//! compose file, the `-f` overrides, the files its `include` and
//! `extends.file` name, the `env_file`s of its services and the project's
//! `--env-file`s, all held by a [`MemoryLoader`] (issue 15: the `import`
//! target reads one file, so nothing it named was ever there to follow).
//!
//! The input is text, so the seeds are readable and the YAML dictionary
//! applies. It is cut into files at each line that starts with `#>`:
//!
//! - text before the first marker is `compose.yaml`, the file imported;
//! - `#> PATH` starts the file PATH (any bytes: `..`, absolute, empty);
//! - `#>-f PATH` starts PATH and passes it as a further `-f` file;
//! - `#>env PATH` starts PATH and passes it as an `--env-file`.
//!
//! Whatever the files say, the import returns a program or an error
//! finding saying why not, never panics; every finding points inside a
//! file read; the program it prints parses to the tree it built and
//! checks without a panic; and importing again gives the same bytes.
#![no_main]

mod common;

#[path = "../../compiler/tests/unspanned/mod.rs"]
mod unspanned;

use std::path::PathBuf;

use infrac::import::EnvFiles;
use infrac::loader::MemoryLoader;
use infrac::syntax;
use libfuzzer_sys::{fuzz_target, Corpus};
use unspanned::unspanned;

/// The files of one input, and which of them are `-f` and `--env-file`s.
struct Project {
    loader: MemoryLoader,
    files: Vec<PathBuf>,
    env: Vec<PathBuf>,
}

fn project(data: &[u8]) -> Project {
    let mut loader = MemoryLoader::new();
    let mut files = vec![PathBuf::from("compose.yaml")];
    let mut env = Vec::new();
    let mut path = PathBuf::from("compose.yaml");
    let mut text: Vec<u8> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        let Some(marker) = line.strip_prefix(b"#>") else {
            text.extend_from_slice(line);
            continue;
        };
        loader.insert(&path, std::mem::take(&mut text));
        let marker = marker.strip_suffix(b"\n").unwrap_or(marker);
        let (list, name) = if let Some(name) = marker.strip_prefix(b"-f ") {
            (Some(&mut files), name)
        } else if let Some(name) = marker.strip_prefix(b"env ") {
            (Some(&mut env), name)
        } else {
            (None, marker.strip_prefix(b" ").unwrap_or(marker))
        };
        path = PathBuf::from(String::from_utf8_lossy(name).into_owned());
        if let Some(list) = list {
            list.push(path.clone());
        }
    }
    loader.insert(&path, text);
    Project { loader, files, env }
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let Project { loader, files, env } = project(data);
    let options: infrac::import::Options = match env.is_empty() {
        true => EnvFiles::Beside,
        false => EnvFiles::Given(env),
    }
    .into();
    // Every path given is in the loader, so nothing is an OS error.
    let (sources, imported) = infrac::compile::import(&loader, &files, &options).expect("in memory");
    common::assert_spans(&imported.diagnostics, &sources);
    common::render_all(&imported.diagnostics, &sources, &imported.redactions);
    let (Some(program), Some(text)) = (&imported.program, imported.text()) else {
        assert!(imported.has_errors(), "no program and no error saying why");
        return Corpus::Keep;
    };
    let (again_sources, again) = infrac::compile::import(&loader, &files, &options).expect("in memory");
    assert!(
        again.text().as_deref() == Some(text.as_str())
            && again_sources.iter().count() == sources.iter().count(),
        "a second import differs"
    );
    let (reparsed, diagnostics) = syntax::parse(infrac::span::FileId(0), &text);
    assert!(
        !diagnostics.iter().any(|d| d.is_error()),
        "the imported program does not parse: {diagnostics:?}\n--- printed\n{text}"
    );
    assert!(
        unspanned(reparsed) == unspanned(program.clone()),
        "the printed program is not the imported tree\n--- printed\n{text}"
    );
    let checked = infrac::compile::compile_text("fuzz.inf", &text);
    common::assert_spans(&checked.diagnostics, &checked.sources);
    Corpus::Keep
});
