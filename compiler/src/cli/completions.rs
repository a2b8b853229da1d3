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
    clap_complete::generate(args.shell, &mut command, "infrac", &mut std::io::stdout());
    Outcome::Clean
}
