//! The standalone `orm-migrate` command.
fn main() -> std::process::ExitCode {
    orm_migrate::cli::main()
}
