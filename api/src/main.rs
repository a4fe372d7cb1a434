//! `commons`: the Green Procurement Commons server and tools.

/// mimalloc instead of glibc's allocator: under search load glibc's `malloc`, `free` and
/// `malloc_consolidate` were several per cent of the server's CPU (see BENCHMARKS.md).
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
