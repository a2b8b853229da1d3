//! `infrac graph FILE --format dot|mermaid|json`: draws the program's
//! services, networks, routes and dependencies, coloured by effective
//! exposure, with the services that have findings marked.

use super::output::outln;
use std::path::PathBuf;

use clap::ValueEnum;

use super::{Color, Outcome};
use crate::diagram;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The program to draw.
    pub file: PathBuf,
    /// The drawing's format.
    #[arg(long, value_enum, default_value_t = Format::Dot)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Dot,
    Mermaid,
    Json,
}

pub fn run(args: Args, color: Color) -> Outcome {
    let checked = match super::compile(&args.file) {
        Ok(compiled) => compiled,
        Err(outcome) => return outcome,
    };
    let Some(model) = checked.drawable() else {
        // Names or values are broken: there is no graph to draw yet.
        super::eprint_report(
            &checked.diagnostics,
            &checked.sources,
            &checked.redactions,
            color,
        );
        return Outcome::Findings;
    };
    let drawing = match args.format {
        Format::Dot => diagram::dot(model, &checked.diagnostics),
        Format::Mermaid => diagram::mermaid(model, &checked.diagnostics),
        Format::Json => diagram::json(model, &checked.diagnostics),
    };
    super::output::stdout(&drawing);
    if args.format != Format::Json {
        outln!();
    }
    Outcome::Clean
}
