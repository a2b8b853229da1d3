//! `infrac migrate FILE.yml --to compose|swarm|k8s|terraform [-o DIR]`:
//! import a compose or stack file, check it, and build it for a target.
//!
//! The imported program is checked as it stands, its spans pointing into
//! the YAML file, so every finding (the open Redis, the password in the
//! environment) names the line of the original that caused it. Only a
//! program without errors is built, through the same code as
//! `infrac build`: [`crate::backend::emit`] and the same atomic write.

use super::output::errln;
use std::path::{Path, PathBuf};

use super::{Color, Outcome};
use crate::backend::{self, Target};
use crate::diagnostics::{Diagnostic, Tally};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The compose or swarm stack file to migrate, then any override files
    /// merged onto it in order (as `docker compose -f A -f B`).
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// What to generate.
    #[arg(long, value_parser = super::target())]
    pub to: Target,
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
    #[command(flatten)]
    pub budget: super::import::BudgetArg,
}

pub fn run(args: Args, color: Color) -> Outcome {
    let (sources, imported) =
        match super::import::load_and_import(&args.files, &args.env_file, &args.budget) {
            Ok(loaded) => loaded,
            Err(outcome) => return outcome,
        };
    let shown = super::import::shown(&args.files);
    let first = &args.files[0];
    let checked = crate::compile::check_imported(sources, &imported);
    let mut diagnostics: Vec<Diagnostic> = checked.diagnostics;
    let (sources, redactions) = (checked.sources, checked.redactions);
    let mut artifacts = Vec::new();
    let mut model_built = false;
    let mut reach = Vec::new();
    if let Some(model) = &checked.model {
        let options = backend::Options {
            project: super::project_of(first, imported.project.as_deref(), true),
            source: shown.clone(),
        };
        let (files, found) = backend::emit(model, args.to, &options);
        artifacts = files;
        diagnostics.extend(found);
        let (lines, blocked) = crate::import::reach::compare(&imported.connections, model, args.to);
        reach = lines;
        diagnostics.extend(blocked);
        model_built = true;
    }
    crate::diagnostics::sort_and_dedup(&mut diagnostics);
    let tally = Tally::of(&diagnostics);
    super::eprint_report(&diagnostics, &sources, &redactions, color);
    let losses = diagnostics
        .iter()
        .filter(|d| d.code.code()[1..].starts_with('6'))
        .count();
    if imported.program.is_none() {
        errln!("migrate failed: {shown} could not be imported; nothing was written");
        return Outcome::Findings;
    }
    if args.strict && losses > 0 {
        errln!(
            "migrate failed (--strict): {losses} thing(s) not carried over; nothing was written"
        );
        return Outcome::Findings;
    }
    if let (Some(path), Some(program)) = (&args.program, imported.text()) {
        if let Err(e) = super::write::replace(path, &program) {
            errln!("error: cannot write {}: {e}", path.display());
            return Outcome::UsageOrIo;
        }
        errln!("wrote the imported program to {}", path.display());
    }
    if tally.errors > 0 || !model_built {
        let hint = match &args.program {
            Some(p) => format!("fix them in {} and run `infrac build`", p.display()),
            None => "import with `infrac import` (or pass --program FILE), fix them there and run `infrac build`".to_string(),
        };
        errln!(
            "migrate failed: {} error(s), {} warning(s) in the imported stack; nothing was built. {hint}",
            tally.errors, tally.warnings
        );
        return Outcome::Findings;
    }
    if !reach.is_empty() {
        errln!(
            "who reaches whom (the source's connections, then on {}):",
            args.to.name()
        );
        for line in &reach {
            errln!("{line}");
        }
    }
    let inputs: Vec<&Path> = args.files.iter().map(PathBuf::as_path).collect();
    super::write::write_and_say(&args.output, &artifacts, &inputs, |bytes| {
        format!(
            "migrated {shown} to {}: {} file(s), {bytes} bytes, in {} ({} warning(s), {losses} of them about the import)",
            args.to.name(),
            artifacts.len(),
            args.output.display(),
            tally.warnings
        )
    })
}
