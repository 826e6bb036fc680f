//! Prometheus metrics with `prometheus-client`: a service keeps its counters and gauges in a
//! [`Registry`] (with [`crate::health::HealthMetrics`] for its dependencies) and [`encode`]s
//! it for `GET /metrics` in the Prometheus text format, version 0.0.4 ([`CONTENT_TYPE`]).
//!
//! Counters are registered without their `_total` suffix; the encoder adds it.

pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;
pub use prometheus_client::registry::Registry;

/// `registry` in the Prometheus text format (version 0.0.4).
pub fn encode(registry: &Registry) -> String {
    let mut text = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, registry);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::EncodeLabelSet;
    use prometheus_client::metrics::counter::Counter;
    use prometheus_client::metrics::family::Family;

    #[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
    struct Labels {
        dataset: String,
    }

    #[test]
    fn counters_get_their_suffix_and_label_values_are_escaped() {
        let mut registry = Registry::default();
        let family = Family::<Labels, Counter>::default();
        registry.register("x_read", "Messages read", family.clone());
        family
            .get_or_create(&Labels {
                dataset: "a\"b\\c\nd".into(),
            })
            .inc_by(3);
        let text = encode(&registry);
        assert!(text.contains("# TYPE x_read_total counter\n"), "{text}");
        assert!(
            text.contains("x_read_total{dataset=\"a\\\"b\\\\c\\nd\"} 3\n"),
            "{text}"
        );
        assert!(CONTENT_TYPE.starts_with("text/plain; version=0.0.4"));
    }
}
