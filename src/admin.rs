//! The admin endpoint of a proxy behind a load balancer (`--admin ADDR`): Prometheus metrics
//! (`GET /metrics`), liveness (`GET /healthz`), readiness (`GET /readyz`, false while
//! draining) and `POST /drain`.
//!
//! The metrics are counted from what the engine and the proxy already know: the engine's
//! observations and findings reach [`metrics::MetricsSink`] on the consumer thread, and the
//! listener counts refusals, TLS failures and upstream connect times where they happen. It
//! judges no traffic, parses no frame and never makes the relay wait (counters are atomics).
//! Labels have a bounded set of values: no station identity, no address.

pub mod metrics;
pub mod server;

pub use metrics::{Metrics, MetricsSink};
pub use server::{AdminState, serve};
