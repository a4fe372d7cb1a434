//! The sending side of `commons import`: the checked file goes to `/import/clauses.ndjson`
//! in batches, a few requests in flight at once.
//!
//! Each batch is one request and one transaction on the server, so a batch lands whole or not
//! at all. While one batch is written, the server parses, checks and anonymises the next;
//! with one request at a time it would do those in turn. Answers are taken in file order:
//! after the first refusal nothing more is sent, the batches already on their way are
//! awaited, and the outcome says exactly which clauses landed.

use std::{collections::VecDeque, time::Duration};

use tokio::task::JoinHandle;

/// How often a batch is offered again while the server answers that it is busy (503 or 429).
const BUSY_RETRIES: u32 = 20;
/// The longest wait between two offers, whatever `Retry-After` asks for.
const LONGEST_WAIT: Duration = Duration::from_secs(30);

/// Where and as whom the batches are sent.
#[derive(Clone)]
pub struct Target {
    pub client: reqwest::Client,
    /// The full import URL, query string included.
    pub url: String,
    pub token: String,
}

/// One request's worth of clauses.
pub struct Batch {
    /// The 1-based number of its first clause in the file.
    pub first: usize,
    /// How many clauses it holds.
    pub clauses: usize,
    /// The NDJSON body.
    pub body: Vec<u8>,
}

/// A batch the server did not import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub first: usize,
    pub last: usize,
    /// The status and the server's message, or why no answer came.
    pub reason: String,
}

/// What an import run achieved.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub imported: usize,
    /// Refused batches in file order; empty when everything landed.
    pub refused: Vec<Refusal>,
    /// Batches that landed after the first refusal (they were already on their way), as
    /// first and last clause numbers.
    pub landed_after: Vec<(usize, usize)>,
    /// The number of the last clause that was sent.
    pub last_sent: usize,
}

impl Outcome {
    /// One sentence for the user when something was refused.
    pub fn failure(&self, total: usize) -> Option<String> {
        if self.refused.is_empty() {
            return None;
        }
        let refused: Vec<String> = self
            .refused
            .iter()
            .map(|r| format!("clauses {}–{} ({})", r.first, r.last, r.reason))
            .collect();
        let mut message = format!(
            "{} of {total} clauses were imported; the server refused {}",
            self.imported,
            refused.join(", ")
        );
        if !self.landed_after.is_empty() {
            let landed: Vec<String> = self
                .landed_after
                .iter()
                .map(|(first, last)| format!("{first}–{last}"))
                .collect();
            message.push_str(&format!(
                "; clauses {}, sent before the refusal came back, were imported",
                landed.join(", ")
            ));
        }
        if self.last_sent < total {
            message.push_str(&format!(
                "; nothing after clause {} was sent",
                self.last_sent
            ));
        }
        Some(message)
    }
}

/// A batch on its way: its first and last clause numbers and the request's task.
type InFlight = (usize, usize, JoinHandle<Result<usize, String>>);

/// Sends `batches` with at most `parallel` requests in flight; `progress` is told how many
/// clauses each landed batch held.
pub async fn send(
    target: &Target,
    batches: impl IntoIterator<Item = Batch>,
    parallel: usize,
    progress: impl Fn(usize),
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut pending: VecDeque<InFlight> = VecDeque::new();
    let mut batches = batches.into_iter();
    loop {
        while outcome.refused.is_empty() && pending.len() < parallel.max(1) {
            let Some(batch) = batches.next() else { break };
            outcome.last_sent = batch.first + batch.clauses - 1;
            let target = target.clone();
            let (first, last) = (batch.first, outcome.last_sent);
            pending.push_back((
                first,
                last,
                tokio::spawn(async move { post(&target, batch.body).await }),
            ));
        }
        let Some((first, last, task)) = pending.pop_front() else {
            break;
        };
        let answer = task
            .await
            .unwrap_or_else(|_| Err("the request was cancelled".to_owned()));
        match answer {
            Ok(count) => {
                outcome.imported += count;
                if !outcome.refused.is_empty() {
                    outcome.landed_after.push((first, last));
                }
                progress(count);
            }
            Err(reason) => outcome.refused.push(Refusal {
                first,
                last,
                reason,
            }),
        }
    }
    outcome
}

/// Posts one batch, offering it again while the server is busy; returns how many clauses
/// it imported.
async fn post(target: &Target, body: Vec<u8>) -> Result<usize, String> {
    let mut attempt = 0;
    loop {
        let response = target
            .client
            .post(&target.url)
            .bearer_auth(&target.token)
            .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
            .body(body.clone())
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        let status = response.status();
        if status.is_success() {
            let answer: serde_json::Value = response
                .json()
                .await
                .map_err(|e| format!("unreadable answer: {}", e.without_url()))?;
            return answer["imported"]
                .as_u64()
                .map(|n| n as usize)
                .ok_or_else(|| "the answer did not say how many were imported".to_owned());
        }
        let busy = status == reqwest::StatusCode::SERVICE_UNAVAILABLE
            || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
        if busy && attempt < BUSY_RETRIES {
            attempt += 1;
            tokio::time::sleep(retry_after(&response)).await;
            continue;
        }
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        let message = answer["errors"][0]["message"]
            .as_str()
            .unwrap_or("no detail");
        return Err(format!("{status}: {message}"));
    }
}

/// The wait a busy answer asks for (whole seconds), one second when it names none.
fn retry_after(response: &reqwest::Response) -> Duration {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(Duration::from_secs(1), Duration::from_secs)
        .min(LONGEST_WAIT)
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use axum::{
        Json, Router,
        body::Bytes,
        extract::State,
        http::{StatusCode, header},
        response::{IntoResponse, Response},
        routing::post,
    };

    use super::*;

    /// A stand-in import endpoint: busy for the first `busy` requests, refuses any batch
    /// whose body holds "refuse", and otherwise imports one clause a line.
    #[derive(Clone, Default)]
    struct Fake {
        busy: Arc<AtomicUsize>,
        requests: Arc<AtomicUsize>,
        imported: Arc<AtomicUsize>,
    }

    async fn endpoint(State(fake): State<Fake>, body: Bytes) -> Response {
        fake.requests.fetch_add(1, Ordering::SeqCst);
        if fake
            .busy
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "0")],
            )
                .into_response();
        }
        let text = String::from_utf8_lossy(&body);
        if text.contains("refuse") {
            let error = serde_json::json!({ "errors": [{ "message": "line 2.title: is empty" }] });
            return (StatusCode::BAD_REQUEST, Json(error)).into_response();
        }
        let count = text.lines().count();
        fake.imported.fetch_add(count, Ordering::SeqCst);
        Json(serde_json::json!({ "imported": count })).into_response()
    }

    async fn serve(fake: Fake) -> Target {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let url = format!("http://{}/import", listener.local_addr().expect("bound"));
        let app = Router::new()
            .route("/import", post(endpoint))
            .with_state(fake);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Target {
            client: reqwest::Client::new(),
            url,
            token: "t".to_owned(),
        }
    }

    /// Batches of two clauses; the batches whose number is in `bad` are refused.
    fn batches(count: usize, bad: &[usize]) -> Vec<Batch> {
        (0..count)
            .map(|n| {
                let word = if bad.contains(&n) { "refuse" } else { "ok" };
                Batch {
                    first: 2 * n + 1,
                    clauses: 2,
                    body: format!("{{\"title\":\"{word}\"}}\n{{}}").into_bytes(),
                }
            })
            .collect()
    }

    #[tokio::test]
    async fn every_batch_lands_and_busy_answers_are_retried() {
        let fake = Fake::default();
        fake.busy.store(3, Ordering::SeqCst);
        let target = serve(fake.clone()).await;
        let landed = AtomicUsize::new(0);
        let outcome = send(&target, batches(7, &[]), 2, |n| {
            landed.fetch_add(n, Ordering::SeqCst);
        })
        .await;
        assert_eq!(
            outcome,
            Outcome {
                imported: 14,
                refused: vec![],
                landed_after: vec![],
                last_sent: 14
            }
        );
        assert_eq!(landed.load(Ordering::SeqCst), 14);
        assert_eq!(fake.imported.load(Ordering::SeqCst), 14);
        assert_eq!(fake.requests.load(Ordering::SeqCst), 7 + 3);
        assert_eq!(outcome.failure(14), None);
    }

    #[tokio::test]
    async fn nothing_is_sent_after_a_refusal_and_the_outcome_counts_what_landed() {
        let fake = Fake::default();
        let target = serve(fake.clone()).await;
        // Batch 2 (clauses 5–6) is refused; batch 3 is already on its way with two in flight.
        let outcome = send(&target, batches(10, &[2]), 2, |_| {}).await;
        assert_eq!(outcome.imported, fake.imported.load(Ordering::SeqCst));
        assert_eq!(outcome.imported, 6, "batches 0, 1 and 3 landed");
        assert_eq!(outcome.last_sent, 8);
        assert_eq!(fake.requests.load(Ordering::SeqCst), 4);
        let [refusal] = outcome.refused.as_slice() else {
            panic!("one refusal expected: {outcome:?}");
        };
        assert_eq!((refusal.first, refusal.last), (5, 6));
        assert!(
            refusal.reason.contains("line 2.title"),
            "{}",
            refusal.reason
        );
        let message = outcome.failure(20).expect("a refusal to report");
        assert!(
            message.starts_with("6 of 20 clauses were imported"),
            "{message}"
        );
        assert!(
            message.contains("nothing after clause 8 was sent"),
            "{message}"
        );
        assert_eq!(outcome.landed_after, [(7, 8)]);
        assert!(
            message.contains("clauses 7–8, sent before the refusal came back, were imported"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn one_at_a_time_stops_at_the_refused_batch() {
        let fake = Fake::default();
        let target = serve(fake.clone()).await;
        let outcome = send(&target, batches(5, &[1]), 1, |_| {}).await;
        assert_eq!(outcome.imported, 2);
        assert_eq!(outcome.last_sent, 4);
        assert_eq!(fake.requests.load(Ordering::SeqCst), 2);
    }
}
