//! The `lotline` command: its arguments, its subcommands and how each ends (exit codes),
//! on top of the layer crates (docs/architecture.md).

pub mod cli;

#[cfg(test)]
mod layers;
