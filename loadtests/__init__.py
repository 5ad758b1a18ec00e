"""Locust suites over LibreChat's HTTP API, the SLO gate and the local LibreChat API simulator.

What belongs here: locustfiles, load shapes, SLO profiles and the verdict, and the simulator.
It imports locust/gevent, so keep it out of the operator's process.
"""
