"""chaostoolkit extension and experiments: ``<domain>/actions.py`` and ``probes.py`` per domain.

What belongs here: the faults and probes that experiments call, and ``experiments/``. It does not
import the load tests or the Pulumi components.
"""
