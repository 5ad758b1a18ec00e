"""The embedded local platform: a real Kubernetes control plane with kwok nodes, Prometheus
and Alertmanager.

What belongs here: building the Go components from the module proxy into the version-keyed cache,
generating certificates and configuration, starting, watching and stopping the processes on
127.0.0.1. Nothing here knows about LibreChat; the product packages use the platform through a
kubeconfig and a Prometheus URL.
"""
