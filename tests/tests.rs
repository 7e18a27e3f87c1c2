//! The one integration test binary: it drives the built `fuelbench` command
//! as a user would. Each module says what belongs in it.

/// `fuelbench sandbox ...` from the outside: JSON shape and exit codes.
mod sandbox_cli;
/// Helpers shared by the modules: finding the binary, running it.
mod util;
