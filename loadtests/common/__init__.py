"""Pure helpers shared by the locustfiles, the verdict and the tests (no locust, no gevent)."""
