//! `infrac graph FILE --format dot|mermaid|json`: draws the program's
//! services, networks, routes and dependencies, coloured by effective
//! exposure, with the services that have findings marked.

use std::path::PathBuf;

use clap::ValueEnum;

use super::{Color, Outcome};
use crate::diagnostics::render;
use crate::source::Sources;
use crate::{check, diagram};

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
    let text = match super::read_source(&args.file) {
        Ok(t) => t,
        Err(outcome) => return outcome,
    };
    let mut sources = Sources::new();
    let id = sources.add(args.file.display().to_string(), text);
    let checked = check::check(&mut sources, id);
    let Some(model) = checked.analysed() else {
        // Names or values are broken: there is no graph to draw yet.
        let style = render::HumanStyle {
            color: color.enabled(),
            width: 100,
        };
        eprint!(
            "{}",
            render::human(&checked.diagnostics, &sources, &checked.redactions, style)
        );
        return Outcome::Findings;
    };
    let drawing = match args.format {
        Format::Dot => diagram::dot(model, &checked.diagnostics),
        Format::Mermaid => diagram::mermaid(model, &checked.diagnostics),
        Format::Json => diagram::json(model, &checked.diagnostics),
    };
    print!("{drawing}");
    if args.format != Format::Json {
        println!();
    }
    Outcome::Clean
}
