fn main() -> std::process::ExitCode {
    lotline::cli::main()
}
