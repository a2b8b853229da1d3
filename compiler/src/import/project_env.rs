//! The project's variables, as compose finds them: the `.env` file in the
//! project directory (beside the first compose file), or the files given
//! with `--env-file` instead, later ones winning. Their values are
//! interpolated with the variables before them (compose's dotenv rules;
//! a single-quoted value is literal). The shell's environment is not
//! read, so an import is the same wherever it runs.
//!
//! They feed [`super::interp::substitute_tree`] before anything is typed.

use std::path::{Path, PathBuf};

use super::interp::{self, Vars};
use super::resolve::Resolver as Loader;
use crate::diagnostics::{Code, Diagnostic};
use crate::span::{FileId, Span};

/// Where the variables come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum EnvFiles {
    /// `.env` beside the first file, when it has a path and the file is
    /// there (as `docker compose` without `--env-file`).
    #[default]
    Beside,
    /// These files, in order (`--env-file A --env-file B`).
    Given(Vec<PathBuf>),
}

/// The variables `env` names, each file read through the loader (and
/// added to the sources, so findings can point into it).
pub(super) fn load(
    loader: &mut Loader,
    first: (FileId, Option<&Path>, &str),
    env: &EnvFiles,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vars {
    let (first_id, first_path, first_name) = first;
    let files: Vec<(PathBuf, String, bool)> = match env {
        EnvFiles::Beside => {
            let Some(dir) = first_path.and_then(Path::parent) else {
                return Vars::new();
            };
            let name = Path::new(first_name)
                .parent()
                .map_or_else(|| PathBuf::from(".env"), |p| p.join(".env"));
            vec![(dir.join(".env"), name.display().to_string(), false)]
        }
        EnvFiles::Given(paths) => paths
            .iter()
            .map(|p| (p.clone(), p.display().to_string(), true))
            .collect(),
    };
    let mut vars = Vars::new();
    for (path, name, required) in files {
        // Through the loader, as every read: the file system is asked
        // nothing directly, so an in-memory project has its `.env` too.
        let (_, entries) = match loader.read_dotenv(&path, name.clone()) {
            Ok(read) => read,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                diagnostics.push(
                    Diagnostic::new(
                        Code::ImportLoss,
                        Span::new(first_id, 0, 0),
                        format!("the env file {name} cannot be read ({e}); its variables are not interpolated"),
                    )
                    .label("interpolated without it")
                    .help("give a dotenv file that can be read, as `docker compose --env-file` needs"),
                );
                continue;
            }
        };
        for (k, v) in entries {
            let (Some(key), Some(raw)) = (k.scalar(), v.scalar().or(Some(""))) else {
                continue;
            };
            let value = if loader.starts_single_quoted(v.span) {
                raw.to_string()
            } else {
                interp::resolve_fully(raw, &vars)
            };
            vars.insert(key.to_string(), value);
        }
    }
    vars
}
