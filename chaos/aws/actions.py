"""Actions on Route 53 ARC routing controls: take a region out of the failover, or back in.

No ``from __future__ import annotations`` here: ``chaos discover`` reads the real annotations.
"""

from typing import Any

from ..errors import ChaosError
from .arc import call

__all__ = ["set_routing_control_state"]

_STATES = ("On", "Off")


def set_routing_control_state(
    routing_control_arn: str,
    state: str,
    cluster_endpoints: str,
    safety_rules_to_override: str = "",
) -> dict[str, Any]:
    """Set an ARC routing control ``On`` (region takes traffic) or ``Off`` (region drained).

    ``cluster_endpoints`` is the comma-separated list of the ARC cluster's regional endpoints
    (tried in turn); ``safety_rules_to_override`` an optional comma-separated list of safety
    rule ARNs to override (normally empty: the safety rules must allow the change). Returns the
    control and the state it was set to.
    """
    if state not in _STATES:
        raise ChaosError(f"state must be On or Off, got {state!r}")
    overrides = [a.strip() for a in safety_rules_to_override.split(",") if a.strip()]
    call(
        cluster_endpoints,
        lambda client: client.update_routing_control_state(
            RoutingControlArn=routing_control_arn,
            RoutingControlState=state,
            SafetyRulesToOverride=overrides,
        ),
    )
    return {"routing_control_arn": routing_control_arn, "state": state}
