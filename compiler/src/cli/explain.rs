//! `infrac explain CODE|NAME`: prints the book page of a finding.

use super::output::errln;
use super::Outcome;
use crate::diagnostics::Code;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A finding's code (`E2001`) or name (`data-exposed`).
    pub code: String,
}

pub fn run(args: Args) -> Outcome {
    match Code::find(&args.code) {
        Some(code) => {
            super::output::stdout(code.page());
            Outcome::Clean
        }
        None => {
            let names = Code::ALL.iter().map(|c| c.name());
            let hint = crate::check::closest_finding(&args.code, names)
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            errln!("error: no finding is called `{}`{hint}", args.code);
            errln!("help: findings are named by code (E2001) or kebab-case name (data-exposed); the book's error index lists them all");
            Outcome::UsageOrIo
        }
    }
}
