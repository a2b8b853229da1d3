//! `infrac migrate FILE.yml --to compose|swarm|k8s|terraform [-o DIR]`:
//! import a compose or stack file, check it, and build it for a target.
//!
//! The imported program is checked as it stands, its spans pointing into
//! the YAML file, so every finding (the open Redis, the password in the
//! environment) names the line of the original that caused it. Only a
//! program without errors is built, through the same code as
//! `infrac build`: [`crate::backend::emit`] and the same atomic write.

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use super::{Color, Outcome};
use crate::backend::{self, Target};
use crate::check;
use crate::diagnostics::{Diagnostic, Tally};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The compose or swarm stack file to migrate, then any override files
    /// merged onto it in order (as `docker compose -f A -f B`).
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// What to generate.
    #[arg(long, value_enum)]
    pub to: To,
    /// The output directory (replaced whole, as by `infrac build`).
    #[arg(long, short, default_value = "out")]
    pub output: PathBuf,
    /// Also write the imported program to this file.
    #[arg(long, value_name = "FILE")]
    pub program: Option<PathBuf>,
    /// Fail when anything of the file is not carried over.
    #[arg(long)]
    pub strict: bool,
    /// Interpolate `${VAR}` with this dotenv file instead of the `.env`
    /// beside the first file (repeatable), as `docker compose --env-file`.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum To {
    Compose,
    Swarm,
    K8s,
    Terraform,
}

impl To {
    fn target(self) -> Target {
        match self {
            To::Compose => Target::Compose,
            To::Swarm => Target::Swarm,
            To::K8s => Target::K8s,
            To::Terraform => Target::Terraform,
        }
    }
}

pub fn run(args: Args, color: Color) -> Outcome {
    let (mut sources, imported) = match super::import::load_and_import(&args.files, &args.env_file)
    {
        Ok(loaded) => loaded,
        Err(outcome) => return outcome,
    };
    let shown = super::import::shown(&args.files);
    let first = &args.files[0];
    let mut diagnostics: Vec<Diagnostic> = imported.diagnostics.clone();
    let mut redactions = imported.redactions.clone();
    let mut artifacts = Vec::new();
    let mut model_built = false;
    if let Some(program) = &imported.program {
        let (modules, module_diagnostics) = check::load_modules(&mut sources, program);
        let checked = check::check_parsed(program, &modules);
        diagnostics.extend(module_diagnostics);
        diagnostics.extend(checked.diagnostics.iter().cloned());
        redactions.extend(checked.redactions.iter().copied());
        let sound = !diagnostics.iter().any(Diagnostic::is_error);
        if let (true, Some(model)) = (sound, &checked.model) {
            let options = backend::Options {
                project: project_of(first, imported.project.as_deref()),
                source: shown.clone(),
            };
            let (files, found) = backend::emit(model, args.to.target(), &options);
            artifacts = files;
            diagnostics.extend(found);
            model_built = true;
        }
    }
    crate::diagnostics::sort_and_dedup(&mut diagnostics);
    let tally = Tally::of(&diagnostics);
    super::eprint_report(&diagnostics, &sources, &redactions, color);
    let losses = diagnostics
        .iter()
        .filter(|d| d.code == crate::diagnostics::Code::ImportLoss)
        .count();
    if imported.program.is_none() {
        eprintln!("migrate failed: {shown} could not be imported; nothing was written");
        return Outcome::Findings;
    }
    if args.strict && losses > 0 {
        eprintln!(
            "migrate failed (--strict): {losses} thing(s) not carried over; nothing was written"
        );
        return Outcome::Findings;
    }
    if let (Some(path), Some(program)) = (&args.program, imported.text()) {
        if let Err(e) = super::fmt::replace(path, &program) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return Outcome::UsageOrIo;
        }
        eprintln!("wrote the imported program to {}", path.display());
    }
    if tally.errors > 0 || !model_built {
        let hint = match &args.program {
            Some(p) => format!("fix them in {} and run `infrac build`", p.display()),
            None => "import with `infrac import` (or pass --program FILE), fix them there and run `infrac build`".to_string(),
        };
        eprintln!(
            "migrate failed: {} error(s), {} warning(s) in the imported stack; nothing was built. {hint}",
            tally.errors, tally.warnings
        );
        return Outcome::Findings;
    }
    match super::build::write_atomically(&args.output, &artifacts) {
        Ok(bytes) => {
            eprintln!(
                "migrated {shown} to {}: {} file(s), {bytes} bytes, in {} ({} warning(s), {losses} of them about the import)",
                args.to.target().name(),
                artifacts.len(),
                args.output.display(),
                tally.warnings
            );
            Outcome::Clean
        }
        Err(e) => {
            eprintln!("error: {e}");
            Outcome::UsageOrIo
        }
    }
}

/// The project: the file's `name:`, else its directory, as compose names it.
fn project_of(file: &Path, declared: Option<&str>) -> String {
    let raw = declared.map(str::to_string).unwrap_or_else(|| {
        std::fs::canonicalize(file)
            .ok()
            .and_then(|p| p.parent()?.file_name()?.to_str().map(str::to_string))
            .unwrap_or_else(|| "infra".to_string())
    });
    backend::project_name(&raw)
}
