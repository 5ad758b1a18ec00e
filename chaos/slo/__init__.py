"""SLO probes: error ratio, error-budget burn and latency quantiles read from Prometheus."""
