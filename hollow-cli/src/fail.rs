//! Failures and exit codes: every subcommand returns `Result<u8, Failure>`; `main` prints
//! the message and exits with the code (listed in `hollow --help`).

use std::io;

/// An error with its exit code.
pub(crate) struct Failure(pub(crate) u8, pub(crate) String);

pub(crate) fn fail<T>(code: u8, msg: impl Into<String>) -> Result<T, Failure> {
    Err(Failure(code, msg.into()))
}

/// Maps a library error to an exit code: store trouble is 4, a missing type or field 3.
/// Takes the library's error and the data layers' alike.
pub(crate) fn lib<E: Into<hollow::Error>>(context: &str) -> impl Fn(E) -> Failure + '_ {
    move |e| {
        let e: hollow::Error = e.into();
        let code = match &e {
            hollow::Error::Store(hollow::store::StoreError::NotFound { .. }) => 3,
            hollow::Error::Store(_) => 4,
            hollow::Error::Data(
                hollow::DataError::NoSuchType(_) | hollow::DataError::NoSuchField { .. },
            ) => 3,
            hollow::Error::Unreachable { .. } => 3,
            _ => 5,
        };
        Failure(code, format!("{context}: {e}"))
    }
}

/// A write error: a closed pipe (`hollow export … | head`) ends quietly.
pub(crate) fn io_fail(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure(0, String::new())
    } else {
        Failure(5, format!("writing the output: {e}"))
    }
}
