//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use infrac::check::{check, Checked};
use infrac::diagnostics::render::{self, HumanStyle};
use infrac::source::Sources;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the repository, when it exists (CI and developers
/// have it; a user's clone does not, and tests that need it skip), or the
/// directory `INFRAC_SHARED` names (a git worktree elsewhere on the disk).
pub fn shared() -> Option<PathBuf> {
    let p = std::env::var_os("INFRAC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"));
    p.is_dir().then_some(p)
}

/// Checks a source text as the CLI would.
pub fn check_text(name: &str, text: &str) -> (Checked, Sources) {
    let mut sources = Sources::new();
    let id = sources.add(name, text);
    let checked = check(&mut sources, id);
    (checked, sources)
}

/// The human report without colour at width 80, as snapshots hold it.
pub fn render_plain(checked: &Checked, sources: &Sources) -> String {
    render::human(
        &checked.diagnostics,
        sources,
        &checked.redactions,
        HumanStyle {
            color: false,
            width: 80,
        },
    )
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Fenced code blocks tagged ```inf TAG in a Markdown text: (tag, line, body).
pub fn inf_blocks(markdown: &str) -> Vec<(String, usize, String)> {
    let mut blocks = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(tag) = line.strip_prefix("```inf") else {
            continue;
        };
        let tag = tag.trim().to_string();
        let mut body = String::new();
        for (_, l) in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        blocks.push((tag, n + 1, body));
    }
    blocks
}

/// Every example program: (name, path of main.inf), sorted.
pub fn examples() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("examples"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("main.inf").is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                p.join("main.inf"),
            )
        })
        .collect();
    out.sort();
    out
}

/// Checks a program and builds one target; panics with the report when
/// the program does not check clean.
pub fn build(
    name: &str,
    text: &str,
    target: infrac::backend::Target,
) -> (
    Vec<infrac::backend::Artifact>,
    Vec<infrac::diagnostics::Diagnostic>,
) {
    let (checked, sources) = check_text(name, text);
    let model = checked.model.as_ref().unwrap_or_else(|| {
        panic!(
            "{name} does not check:\n{}",
            render_plain(&checked, &sources)
        )
    });
    // As the CLI names it: a `main.inf` by its directory, else by its stem.
    let path = std::path::Path::new(name);
    let stem = match path.file_stem().and_then(|s| s.to_str()) {
        Some("main") => path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str())
            .unwrap_or("main"),
        Some(stem) => stem,
        None => name,
    };
    let options = infrac::backend::Options {
        project: infrac::backend::project_name(stem),
        source: name.to_string(),
    };
    infrac::backend::emit(model, target, &options)
}
