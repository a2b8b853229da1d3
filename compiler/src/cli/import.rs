//! `infrac import FILE.yml [OVERRIDE.yml...] [-o infra.inf] [--report json]
//! [--strict] [--env-file FILE] [--max-bytes SIZE]`: a compose or swarm stack file (merged with its overrides,
//! as `docker compose -f` merges them) to a program (see [`crate::import`]).
//!
//! The program goes to `-o` (replaced atomically) or stdout; what was not
//! carried over goes to stderr, or to stdout as JSON with `--report json`.
//! `--strict` turns every import-loss into a failure: exit 1, nothing
//! written.

use super::output::{errln, outln};
use std::path::PathBuf;

use clap::ValueEnum;

use super::{Color, Outcome};
use crate::diagnostics::{render, Tally};
use crate::import::{self, Imported};
use crate::source::Sources;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The compose or swarm stack file to import, then any override files
    /// merged onto it in order (as `docker compose -f A -f B`).
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// Write the program to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Print the findings on stdout in this format (as `check --format json`).
    #[arg(long, value_enum)]
    pub report: Option<Report>,
    /// Fail, writing nothing, when anything is not carried over.
    #[arg(long)]
    pub strict: bool,
    /// Interpolate `${VAR}` with the variables of this dotenv file instead
    /// of the `.env` beside the first file (repeatable, later files win),
    /// as `docker compose --env-file`.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    #[command(flatten)]
    pub budget: BudgetArg,
}

/// The import's budget, shared by `import` and `migrate`.
#[derive(Debug, clap::Args)]
pub struct BudgetArg {
    /// The most bytes the import reads: every file, and an included file
    /// again each time it is merged in. A number of bytes, or with K, M or
    /// G (powers of 1024). The default bounds a crafted file; raise it for
    /// a stack that is this large on purpose.
    #[arg(long = "max-bytes", value_name = "SIZE", default_value = "32M", value_parser = size)]
    pub max_bytes: u64,
}

/// `SIZE` of `--max-bytes`: `1048576`, `64K`, `32M`, `2G`.
fn size(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let shift = match unit {
        "" => 0,
        "K" | "k" | "KiB" => 10,
        "M" | "m" | "MiB" => 20,
        "G" | "g" | "GiB" => 30,
        _ => {
            return Err(format!(
                "`{unit}` is not a unit: write a number of bytes, or one with K, M or G"
            ))
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| "write a number of bytes, or one with K, M or G (64M)".to_string())?;
    match n.checked_mul(1 << shift) {
        Some(0) => Err("an import must read at least one byte".into()),
        Some(bytes) => Ok(bytes),
        None => Err("larger than any file infrac reads".into()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Report {
    Json,
}

pub fn run(args: Args, color: Color) -> Outcome {
    if args.report.is_some() && args.output.is_none() {
        errln!("error: `--report json` prints the findings on stdout; write the program with `-o FILE`");
        return Outcome::UsageOrIo;
    }
    let (sources, imported) = match load_and_import(&args.files, &args.env_file, &args.budget) {
        Ok(loaded) => loaded,
        Err(outcome) => return outcome,
    };
    let shown = shown(&args.files);
    report(&imported, &sources, args.report, color);
    let tally = Tally::of(&imported.diagnostics);
    let program = match imported.text() {
        Some(p) if !(args.strict && tally.warnings > 0) => p,
        Some(_) => {
            errln!(
                "import failed (--strict): {} thing(s) not carried over; nothing was written",
                tally.warnings
            );
            return Outcome::Findings;
        }
        None => {
            errln!(
                "import failed: {shown} is not a compose file infrac can read; nothing was written"
            );
            return Outcome::Findings;
        }
    };
    let services = imported
        .program
        .as_ref()
        .map_or(0, |p| p.items.iter().filter(|i| matches!(i, crate::ast::Item::Decl(d) if d.kind == crate::ast::DeclKind::Service)).count());
    match &args.output {
        Some(path) => {
            if let Err(e) = super::write::replace(path, &program) {
                errln!("error: cannot write {}: {e}", path.display());
                return Outcome::UsageOrIo;
            }
            errln!(
                "imported {services} service(s) from {shown} into {}; {} thing(s) not carried over. Next: infrac check {}",
                path.display(),
                tally.warnings,
                path.display()
            );
        }
        None => {
            super::output::stdout(&program);
            errln!(
                "imported {services} service(s) from {shown}; {} thing(s) not carried over",
                tally.warnings
            );
        }
    }
    if tally.errors > 0 {
        errln!(
            "import found {} error(s): the program is written for you to edit, but it does not say what the file does",
            tally.errors
        );
        return Outcome::Findings;
    }
    Outcome::Clean
}

/// Reads `files` and imports them merged, following the files they name,
/// interpolated with `env_files` (none: the `.env` beside the first file),
/// within `budget`.
pub(crate) fn load_and_import(
    files: &[PathBuf],
    env_files: &[PathBuf],
    budget: &BudgetArg,
) -> Result<(Sources, Imported), Outcome> {
    for path in env_files {
        if let Err(e) = std::fs::metadata(path) {
            errln!("error: cannot read the env file {}: {e}", path.display());
            return Err(Outcome::UsageOrIo);
        }
    }
    let env = if env_files.is_empty() {
        import::EnvFiles::Beside
    } else {
        import::EnvFiles::Given(env_files.to_vec())
    };
    let options = import::Options {
        env,
        budget: import::Budget {
            bytes: budget.max_bytes,
            ..import::Budget::default()
        },
    };
    crate::compile::import(&crate::loader::FsLoader, files, &options).map_err(super::unreadable)
}

/// The files as messages name them: `a.yml + b.yml`.
pub(crate) fn shown(files: &[PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    names.join(" + ")
}

/// Prints the import's findings: JSON on stdout, or the human report on stderr.
pub(crate) fn report(imported: &Imported, sources: &Sources, format: Option<Report>, color: Color) {
    match format {
        Some(Report::Json) => outln!("{}", render::json(&imported.diagnostics, sources)),
        None => {
            super::eprint_report(&imported.diagnostics, sources, &imported.redactions, color);
        }
    }
}
