//! Driving an operation under load and recording its latencies.
//!
//! Closed loop: `concurrency` workers each send the next request when the last one answered,
//! which finds the saturated throughput. Fixed rate: request `i` is due at
//! `start + i / rate` and its latency is measured from that intended moment, not from when it
//! could actually be sent, so a stalled server shows up in the latencies instead of quietly
//! lowering the rate (no coordinated omission).

use std::{
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::sync::Semaphore;

#[derive(Debug, Clone, Copy)]
pub enum Mode {
    Closed { concurrency: usize },
    Fixed { rate: f64, max_in_flight: usize },
}

#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub mode: Mode,
    pub warmup: Duration,
    pub duration: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct Latencies {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub name: String,
    pub mode: String,
    pub duration_s: f64,
    pub requests: u64,
    pub errors: u64,
    pub throughput_rps: f64,
    /// Milliseconds.
    pub latency_ms: Latencies,
}

impl Report {
    pub fn text(&self) -> String {
        let l = &self.latency_ms;
        format!(
            "{:<28} {:<22} {:>8} req {:>5} err {:>9.1} req/s  p50 {:>7.2} p90 {:>7.2} p99 {:>7.2} p99.9 {:>7.2} max {:>7.2} ms",
            self.name,
            self.mode,
            self.requests,
            self.errors,
            self.throughput_rps,
            l.p50,
            l.p90,
            l.p99,
            l.p999,
            l.max
        )
    }
}

/// Microseconds, 1 µs to 60 s, three significant figures.
fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3)
        .unwrap_or_else(|_| unreachable!("the bounds are valid"))
}

fn micros(elapsed: Duration) -> u64 {
    (elapsed.as_micros() as u64).clamp(1, 60_000_000)
}

/// Runs `op(i)` under `plan`; `op` returns whether the request succeeded.
pub async fn run<F, Fut>(name: &str, plan: Plan, op: F) -> Report
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let op = Arc::new(op);
    let histogram = Arc::new(Mutex::new(new_histogram()));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let measure_from = started + plan.warmup;
    let end = measure_from + plan.duration;
    let record = {
        let histogram = histogram.clone();
        let errors = errors.clone();
        move |due: Instant, ok: bool| {
            if due < measure_from {
                return;
            }
            if !ok {
                errors.fetch_add(1, Ordering::Relaxed);
            }
            if let Ok(mut h) = histogram.lock() {
                h.saturating_record(micros(due.elapsed()));
            }
        }
    };
    let mode = match plan.mode {
        Mode::Closed { concurrency } => {
            let next = Arc::new(AtomicUsize::new(0));
            let workers: Vec<_> = (0..concurrency.max(1))
                .map(|_| {
                    let (op, next, record) = (op.clone(), next.clone(), record.clone());
                    tokio::spawn(async move {
                        while Instant::now() < end {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let sent = Instant::now();
                            let ok = op(i).await;
                            record(sent, ok);
                        }
                    })
                })
                .collect();
            for worker in workers {
                let _ = worker.await;
            }
            format!("closed, {concurrency} workers")
        }
        Mode::Fixed {
            rate,
            max_in_flight,
        } => {
            let slots = Arc::new(Semaphore::new(max_in_flight.max(1)));
            let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
            let mut tasks = Vec::new();
            for i in 0.. {
                let due = started + period.mul_f64(i as f64);
                if due >= end {
                    break;
                }
                tokio::time::sleep_until(due.into()).await;
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    break;
                };
                let (op, record) = (op.clone(), record.clone());
                tasks.push(tokio::spawn(async move {
                    let ok = op(i).await;
                    record(due, ok);
                    drop(slot);
                }));
                // Keep the task list short on long runs.
                if tasks.len() > 10_000 {
                    tasks.retain(|t| !t.is_finished());
                }
            }
            for task in tasks {
                let _ = task.await;
            }
            format!("fixed, {rate} req/s")
        }
    };
    let h = histogram
        .lock()
        .map(|h| h.clone())
        .unwrap_or_else(|_| new_histogram());
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1_000.0;
    let duration_s = plan.duration.as_secs_f64();
    Report {
        name: name.to_owned(),
        mode,
        duration_s,
        requests: h.len(),
        errors: errors.load(Ordering::Relaxed),
        throughput_rps: h.len() as f64 / duration_s,
        latency_ms: Latencies {
            p50: ms(0.50),
            p90: ms(0.90),
            p99: ms(0.99),
            p999: ms(0.999),
            max: h.max() as f64 / 1_000.0,
            mean: h.mean() / 1_000.0,
        },
    }
}
