"""Probes of Route 53 ARC routing controls.

No ``from __future__ import annotations`` here: ``chaos discover`` reads the real annotations.
"""

from .arc import call

__all__ = ["routing_control_state"]


def routing_control_state(routing_control_arn: str, cluster_endpoints: str) -> str:
    """The state of an ARC routing control: ``On`` (its region takes traffic) or ``Off``."""
    answer = call(
        cluster_endpoints,
        lambda client: client.get_routing_control_state(RoutingControlArn=routing_control_arn),
    )
    return str(answer["RoutingControlState"])
