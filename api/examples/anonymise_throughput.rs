//! Measures the anonymiser on clause-sized texts.
//!
//! `cargo run --release -p commons-api --example anonymise_throughput [ITERATIONS]`

use std::time::Instant;

use commons_api::anonymise::Anonymiser;
use entity::Language;

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let paragraph = "Leverantören ska erbjuda återtagande av levererade datorer (CPV 30213100-6) \
        enligt ISO 14001:2015 och TCO Certified Generation 10. Hållbarhet viktas 30 %, värde \
        1 500 000 SEK, avtalet gäller 2025-03-31. Frågor till kontaktperson Anna Svensson, \
        anna.svensson@lund.se, tel. 046-35 50 00, personnummer 811218-9876. ";
    let text = paragraph.repeat(10_000 / paragraph.len() + 1);
    let deny: Vec<String> = (0..200).map(|i| format!("Namn{i} Efternamn{i}")).collect();
    let anonymiser = Anonymiser::new(&deny);
    let mut out = 0;
    let started = Instant::now();
    for _ in 0..iterations {
        out += anonymiser.anonymise(&text, Language::Sv).len();
    }
    let elapsed = started.elapsed();
    let per_text = elapsed / iterations as u32;
    let mb_per_s = (text.len() * iterations) as f64 / elapsed.as_secs_f64() / 1e6;
    let findings = anonymiser.find(&text, Language::Sv).len();
    let report = format!(
        "{iterations} texts of {} bytes ({findings} findings each, 200 deny-list terms): \
         {per_text:?} per text, {mb_per_s:.1} MB/s (checksum {out})",
        text.len()
    );
    #[expect(
        clippy::print_stdout,
        reason = "the example reports on standard output"
    )]
    {
        println!("{report}");
    }
}
