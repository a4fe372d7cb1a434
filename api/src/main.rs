//! `commons`: the Green Procurement Commons server and tools.

/// mimalloc instead of the system allocator: a GraphQL answer is built from many small,
/// short-lived allocations, and glibc's malloc and free took about a quarter of the server's
/// CPU time on list pages (perf, 2026-12-07).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
