"""Kubernetes faults and probes: ``actions.py`` (pods, deployments, nodes, network policies) and
``probes.py`` (availability, running pods, Ready nodes).

What belongs here: everything an experiment does to or reads from a Kubernetes API. The client
and its error translation are in ``client.py``; ``nodestate.py`` keeps deleted nodes for their
rollback; ``selectors.py`` and ``readiness.py`` are pure helpers.
"""
