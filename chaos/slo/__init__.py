"""SLO probes: whether an environment's SLOs hold, read from the generated Prometheus rules."""
