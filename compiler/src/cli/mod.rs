//! The command line. Only this module touches files, the terminal, the
//! environment and the process exit code; each subcommand is one file.
//!
//! Exit codes: 0 clean (warnings allowed), 1 errors found (or warnings under
//! `--deny-warnings`), 2 usage or IO error.

mod build;
mod check;
mod completions;
mod explain;
mod fmt;
mod graph;
mod import;
mod lsp;
mod migrate;
mod output;
mod sink;
mod watch;
mod write;

/// The build's atomic writer, public for the write benchmark.
#[doc(hidden)]
pub use write::write_atomically;

/// The output layer over any writers, public for the `output` fuzz target.
#[doc(hidden)]
pub use output::Streams;

use output::{err, errln};
use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// A compiler for `.inf` infrastructure programs that rejects unsafe exposure.
#[derive(Debug, Parser)]
#[command(name = "infrac", version, about, propagate_version = true)]
pub struct Cli {
    /// When to colour the output.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check programs and report every finding.
    Check(check::Args),
    /// Check a program and write the files of a deployment target.
    Build(build::Args),
    /// Print the book page of a finding, by code (E2001) or name (data-exposed).
    Explain(explain::Args),
    /// Draw the program's graph, coloured by effective exposure.
    Graph(graph::Args),
    /// Print a shell completion script.
    Completions(completions::Args),
    /// Rewrite programs in the canonical layout, comments kept.
    Fmt(fmt::Args),
    /// Turn a compose or swarm stack file into a program.
    Import(import::Args),
    /// Import a compose or stack file, check it, and build it for a target.
    Migrate(migrate::Args),
    /// Serve the Language Server Protocol on stdin and stdout (for editors).
    Lsp(lsp::Args),
    /// Print a generated N-service program, or its compose file (for benchmarks).
    #[command(hide = true)]
    Workload {
        /// How many services.
        services: usize,
        /// Print the compose file of the same architecture instead.
        #[arg(long)]
        compose: bool,
        /// Print the flat program issue 17 measures scaling on instead.
        #[arg(long, conflicts_with = "compose")]
        fleet: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl Color {
    /// Whether to colour output written to stderr.
    pub fn enabled(self) -> bool {
        match self {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

/// The process outcome of a subcommand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Findings,
    UsageOrIo,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> ExitCode {
        match o {
            Outcome::Clean => ExitCode::SUCCESS,
            Outcome::Findings => ExitCode::from(1),
            Outcome::UsageOrIo => ExitCode::from(2),
        }
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    let outcome = match cli.command {
        Command::Check(args) => check::run(args, cli.color),
        Command::Build(args) => build::run(args, cli.color),
        Command::Explain(args) => explain::run(args),
        Command::Graph(args) => graph::run(args, cli.color),
        Command::Completions(args) => completions::run(args),
        Command::Fmt(args) => fmt::run(args, cli.color),
        Command::Import(args) => import::run(args, cli.color),
        Command::Migrate(args) => migrate::run(args, cli.color),
        Command::Lsp(args) => lsp::run(args),
        Command::Workload {
            services,
            compose,
            fleet,
        } => {
            let text = match (compose, fleet) {
                (true, _) => crate::workload::compose(services),
                (_, true) => crate::workload::fleet(services),
                _ => crate::workload::program(services),
            };
            output::stdout(&text);
            Outcome::Clean
        }
    };
    output::finish(outcome).into()
}

/// Compiles the program at `path` from the file system, or says why it
/// could not be read (exit 2).
pub(crate) fn compile(path: &std::path::Path) -> Result<crate::Compiled, Outcome> {
    crate::compile(&crate::loader::FsLoader, path).map_err(unreadable)
}

/// Reports a file the operating system would not give: exit 2.
pub(crate) fn unreadable(e: crate::compile::Unreadable) -> Outcome {
    errln!("error: {e}");
    Outcome::UsageOrIo
}

/// Prints the human report of `diagnostics` on stderr.
pub(crate) fn eprint_report(
    diagnostics: &[crate::diagnostics::Diagnostic],
    sources: &crate::source::Sources,
    redactions: &[crate::span::Span],
    color: Color,
) {
    let style = crate::diagnostics::render::HumanStyle {
        color: color.enabled(),
        width: 100,
    };
    err!(
        "{}",
        crate::diagnostics::render::human(diagnostics, sources, redactions, style)
    );
}

/// The targets `--target` names (one, or every one for `all`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets(pub Vec<crate::backend::Target>);

/// The value parser of `--target`: a target by name, or (when `all` is
/// allowed) `all` for every target. The names are the backend's own.
fn targets(all: bool) -> impl clap::builder::TypedValueParser<Value = Targets> {
    use crate::backend::Target;
    use clap::builder::TypedValueParser;
    let mut names: Vec<&'static str> = Target::ALL.iter().map(|t| t.name()).collect();
    if all {
        names.push("all");
    }
    clap::builder::PossibleValuesParser::new(names).map(|name| {
        Targets(
            Target::ALL
                .iter()
                .copied()
                .filter(|t| name == "all" || t.name() == name)
                .collect(),
        )
    })
}

/// The value parser of `--to`: one target by name.
fn target() -> impl clap::builder::TypedValueParser<Value = crate::backend::Target> {
    use clap::builder::TypedValueParser;
    targets(false).map(|t| t.0[0])
}

/// The project name, as compose would name it: `declared` (a compose
/// file's `name:`) when given; else, for a program, its stem, or its
/// directory for a `main.inf`; for a compose file, its directory.
pub(crate) fn project_of(file: &std::path::Path, declared: Option<&str>, compose: bool) -> String {
    use crate::loader::{FsLoader, Loader};
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("infra");
    let directory = || {
        let real = FsLoader.canonical(file);
        real.parent()?.file_name()?.to_str().map(str::to_string)
    };
    let raw = match declared {
        Some(name) => name.to_string(),
        None if compose => directory().unwrap_or_else(|| "infra".to_string()),
        None if stem == "main" => directory().unwrap_or_else(|| stem.to_string()),
        None => stem.to_string(),
    };
    crate::backend::project_name(&raw)
}
