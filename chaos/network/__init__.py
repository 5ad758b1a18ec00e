"""Network faults through a real fault proxy, Toxiproxy, and probes of the faults in place.

The simulator runs ``toxiproxy-server`` (built from the Go module proxy by
``localplatform.toxiproxy``) between its replicas and their upstreams: proxy ``llm`` in front of
the mock LLM, proxy ``redis`` in front of Redis. ``actions`` adds latency, bandwidth limits,
resets and stalls there, or cuts a link; ``probes`` reports what is in place. ``client`` is the one
module that talks to Toxiproxy's HTTP API.
"""
