//! `infrac completions SHELL`: prints a completion script for the shell.

use clap::CommandFactory;

use super::{Cli, Outcome};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to complete in.
    pub shell: clap_complete::Shell,
}

pub fn run(args: Args) -> Outcome {
    let mut command = Cli::command();
    // Into memory, then through the output layer: clap_complete panics
    // when its writer fails.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "infrac", &mut script);
    super::output::stdout(&String::from_utf8_lossy(&script));
    Outcome::Clean
}
