//! One integration-test binary: every test starts the real server on a random port against
//! its own database. Each test runs on SQLite and, when `TEST_DATABASE_URL` is set, also on
//! PostgreSQL (in a database of its own, dropped afterwards).

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

mod helpers;

mod anonymisation;
mod auth;
mod catalogue;
mod federation;
mod feed;
mod hostile;
mod import;
mod limits;
mod lists;
mod metrics;
mod migrations;
mod mirror;
mod platform;
mod search;
mod search_quality;
mod subscription;
mod trust;
mod web;
