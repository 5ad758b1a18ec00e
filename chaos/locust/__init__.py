"""Locust probes: request counts, failure ratio and percentiles from Locust's CSV statistics."""
