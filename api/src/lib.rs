//! Green Procurement Commons: GraphQL API, domain services and the `commons` CLI.

pub mod anonymise;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod export;
pub mod feed;
pub mod graphql;
pub mod health;
pub mod import;
pub mod indexing;
pub mod metrics;
pub mod ratelimit;
pub mod row_cache;
pub mod seed;
pub mod service;
pub mod startup;
pub mod synthetic;
pub mod telemetry;
pub mod web;
