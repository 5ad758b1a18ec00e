"""Pulumi ComponentResources, one per module with its Args, and pure spec builders beside them.

What belongs here: network, cluster, data stores, edge and in-cluster platform components used by
the stacks. The Pulumi program that wires them per environment lives in ``stacks/``.
"""
