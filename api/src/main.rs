//! `commons`: the Green Procurement Commons server and tools.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match commons_api::cli::run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            // Also on stderr in case logging is filtered out.
            #[expect(clippy::print_stderr, reason = "last-resort error report")]
            {
                eprintln!("error: {error:#}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
