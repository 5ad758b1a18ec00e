"""The ARC routing-control actions and probes against botocore's Stubber: AWS cannot run here, so
the stub checks each request's parameters against the API's model and answers as ARC would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.stub import Stubber  # type: ignore[import-untyped]

from chaos.aws import actions, arc, probes
from chaos.errors import ChaosError, TargetNotFoundError, UnreachableError

ARN = "arn:aws:route53-recovery-control::111122223333:controlpanel/abc/routingcontrol/def"
ENDPOINTS = (
    "https://aaaa.route53-recovery-cluster.us-east-1.amazonaws.com/v1,"
    "https://bbbb.route53-recovery-cluster.eu-west-1.amazonaws.com/v1"
)


class StubbedArc:
    """Stubbed ARC clients, one per cluster endpoint the code tries, primed in order."""

    def __init__(self) -> None:
        self.planned: list[Callable[[Any], Stubber]] = []
        self.made: list[Stubber] = []

    def plan(self, *answers: Callable[[Any], Stubber]) -> None:
        """Per endpoint in turn, a function that primes its client's Stubber."""
        self.planned.extend(answers)

    def client(self, service: str, region_name: str, endpoint_url: str) -> Any:
        """What ``boto3.client`` returns: a real client whose calls the next Stubber answers."""
        real = boto3.session.Session().client(
            service,
            region_name=region_name,
            endpoint_url=endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        self.made.append(self.planned.pop(0)(real))
        return real


@pytest.fixture
def stubs(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubbedArc]:
    stubbed = StubbedArc()
    monkeypatch.setattr(arc.boto3, "client", stubbed.client)
    yield stubbed
    assert not stubbed.planned, "the code tried fewer endpoints than the test planned"
    for stubber in stubbed.made:
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def answering(
    method: str, response: dict[str, Any], params: dict[str, Any]
) -> Callable[[Any], Stubber]:
    def prime(client: Any) -> Stubber:
        stubber = Stubber(client)
        stubber.add_response(method, response, params)
        stubber.activate()
        return stubber

    return prime


def failing(method: str, code: str, status: int) -> Callable[[Any], Stubber]:
    def prime(client: Any) -> Stubber:
        stubber = Stubber(client)
        stubber.add_client_error(method, code, f"{code} from the stub", status)
        stubber.activate()
        return stubber

    return prime


def test_draining_a_region_sets_its_control_off(stubs: StubbedArc) -> None:
    stubs.plan(
        answering(
            "update_routing_control_state",
            {},
            {"RoutingControlArn": ARN, "RoutingControlState": "Off", "SafetyRulesToOverride": []},
        )
    )
    assert actions.set_routing_control_state(ARN, "Off", ENDPOINTS) == {
        "routing_control_arn": ARN,
        "state": "Off",
    }
    assert len(stubs.made) == 1


def test_a_throttled_endpoint_is_retried_on_the_next(stubs: StubbedArc) -> None:
    stubs.plan(
        failing("get_routing_control_state", "ThrottlingException", 429),
        answering(
            "get_routing_control_state",
            {"RoutingControlArn": ARN, "RoutingControlState": "On"},
            {"RoutingControlArn": ARN},
        ),
    )
    assert probes.routing_control_state(ARN, ENDPOINTS) == "On"
    assert len(stubs.made) == 2


def test_safety_rule_overrides_are_passed_as_a_list(stubs: StubbedArc) -> None:
    rules = ["arn:aws:route53-recovery-control::1:safetyrule/a", "arn:aws:r53:1:safetyrule/b"]
    stubs.plan(
        answering(
            "update_routing_control_state",
            {},
            {"RoutingControlArn": ARN, "RoutingControlState": "On", "SafetyRulesToOverride": rules},
        )
    )
    answer = actions.set_routing_control_state(ARN, "On", ENDPOINTS, f" {rules[0]} ,{rules[1]}")
    assert answer == {"routing_control_arn": ARN, "state": "On"}


def test_an_unknown_control_is_not_retried(stubs: StubbedArc) -> None:
    stubs.plan(failing("get_routing_control_state", "ResourceNotFoundException", 404))
    with pytest.raises(TargetNotFoundError, match="ARC says") as error:
        probes.routing_control_state(ARN, ENDPOINTS)
    assert error.value.hint == "check the routing control ARN"
    assert len(stubs.made) == 1


def test_a_refusal_is_a_chaos_error_with_aws_code(stubs: StubbedArc) -> None:
    stubs.plan(failing("update_routing_control_state", "ConflictException", 409))
    with pytest.raises(ChaosError, match=r"ARC refused \(ConflictException\)"):
        actions.set_routing_control_state(ARN, "Off", ENDPOINTS)


def test_every_endpoint_failing_names_each_region(stubs: StubbedArc) -> None:
    stubs.plan(
        failing("get_routing_control_state", "InternalServerException", 500),
        failing("get_routing_control_state", "EndpointTemporarilyUnavailable", 503),
    )
    with pytest.raises(UnreachableError) as error:
        probes.routing_control_state(ARN, ENDPOINTS)
    assert "us-east-1: InternalServerException" in error.value.message
    assert "eu-west-1: EndpointTemporarilyUnavailable" in error.value.message


def test_a_bad_state_is_refused_before_any_call(stubs: StubbedArc) -> None:
    with pytest.raises(ChaosError, match="state must be On or Off, got 'off'"):
        actions.set_routing_control_state(ARN, "off", ENDPOINTS)
    assert stubs.made == []
