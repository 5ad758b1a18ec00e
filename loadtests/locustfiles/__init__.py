"""Locustfiles: run by ``locust -f`` in their own process (they import locust and gevent)."""
