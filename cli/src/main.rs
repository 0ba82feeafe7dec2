//! `connector`: the connector marketplace's command-line client. It speaks
//! only the public HTTP API (`Authorization: Bearer <key>`); see
//! `connector --help` and the README's CLI section.

mod api;
mod args;
mod cmd;
mod config;
mod error;
mod prompt;
mod ui;

use clap::Parser;

fn main() {
    let cli = match args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print and end with 0; usage errors with 2.
            let _ = e.print();
            std::process::exit(e.exit_code());
        }
    };
    let code = match cmd::run(cli) {
        Ok(()) => error::OK,
        Err(f) => {
            if let Some(text) = f.describe() {
                eprintln!("{text}");
            }
            f.exit_code()
        }
    };
    std::process::exit(code);
}
