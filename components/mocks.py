"""Pulumi mocks for the offline plan: plausible provider outputs and a record of every resource.

What belongs here: the ``pulumi.runtime.Mocks`` subclass that stands in for the engine and the
providers (no cloud, no Pulumi CLI), and the monitor subclass that remembers each resource's parent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

from .errors import PlanError


@dataclass(frozen=True)
class PlannedResource:
    """One resource the program declared."""

    urn: str
    """Its URN (stack, project, type chain and name)."""
    type: str
    """Type token, e.g. ``aws:eks/nodeGroup:NodeGroup``."""
    name: str
    """Logical name."""
    parent: str | None
    """Parent URN; None for the stack's direct children."""
    custom: bool
    """True for provider-managed resources, False for components."""
    inputs: dict[str, Any]
    """Inputs as the engine receives them (camelCase; secrets wrapped in the secret signature)."""
    provider: str | None = None
    """Provider reference (``<provider urn>::<id>``), None for components and providers."""
    protect: bool = False
    """Pulumi refuses to delete it (``protect``)."""


_OUTPUTS: dict[str, Callable[[str, dict[str, Any]], dict[str, Any]]] = {
    "aws:lambda/function:Function": lambda name, _: {
        "qualifiedArn": f"arn:aws:lambda:us-east-1:0:function:{name}:1",
        "version": "1",
    },
    "aws:cloudfront/distribution:Distribution": lambda name, _: {
        "domainName": f"{name}.cloudfront.mock",
        "hostedZoneId": "Z2FDTNDATAQYW2",
    },
    "aws:docdb/cluster:Cluster": lambda name, _: {
        "endpoint": f"{name}.cluster.mock",
        "readerEndpoint": f"{name}.cluster-ro.mock",
    },
    "aws:rds/cluster:Cluster": lambda name, _: {
        "endpoint": f"{name}.cluster.mock",
        "readerEndpoint": f"{name}.cluster-ro.mock",
    },
    "aws:elasticache/replicationGroup:ReplicationGroup": lambda name, _: {
        "configurationEndpointAddress": f"{name}.cache.mock",
        "primaryEndpointAddress": f"master.{name}.cache.mock",
    },
    "aws:msk/cluster:Cluster": lambda name, _: {
        "bootstrapBrokersSaslIam": f"b-1.{name}.kafka.mock:9098"
    },
    "aws:ec2/launchTemplate:LaunchTemplate": lambda _, __: {"latestVersion": 1},
    "aws:route53recoverycontrol/cluster:Cluster": lambda _, __: {
        "clusterEndpoints": [
            {"endpoint": f"https://host-{i}.route53-recovery-cluster.mock/v1", "region": region}
            for i, region in enumerate(("us-east-1", "us-west-2", "eu-west-1"))
        ]
    },
    "aws:route53/record:Record": lambda name, inputs: {"fqdn": inputs.get("name", name)},
    "aws:acm/certificateValidation:CertificateValidation": lambda _, inputs: {
        "certificateArn": inputs.get("certificateArn", "")
    },
    "kubernetes:core/v1:Service": lambda name, _: {
        "status": {"loadBalancer": {"ingress": [{"hostname": f"{name}.elb.mock"}]}}
    },
}
"""Outputs of a resource type that its inputs do not give (name, inputs -> outputs)."""


def _mock_outputs(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs a real provider would add, just enough for the program's applies."""
    extra: dict[str, Any] = {"arn": f"arn:aws:mock:::{name}"}
    if typ.startswith("aws:"):
        extra["name"] = name  # what auto-naming would give (without the random suffix)
    if typ == "aws:eks/cluster:Cluster":
        extra |= {
            "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.mock/id/{name}"}]}],
            "endpoint": f"https://{name}.eks.mock",
            "certificateAuthority": {"data": "bW9jaw=="},
        }
        inputs = {
            **inputs,
            "vpcConfig": {**inputs.get("vpcConfig", {}), "clusterSecurityGroupId": f"sg-{name}"},
        }
    elif typ == "aws:acm/certificate:Certificate":
        domains = [inputs.get("domainName", name), *inputs.get("subjectAlternativeNames", [])]
        extra["domainValidationOptions"] = [
            {
                "domainName": domain,
                "resourceRecordName": f"_mock.{domain}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": "_mock.acm-validations.aws.",
            }
            for domain in domains
        ]
    else:
        outputs = _OUTPUTS.get(typ)
        if outputs is not None:
            extra |= outputs(name, inputs)
    return {**extra, **inputs}


class PlanMocks(pulumi.runtime.Mocks):
    """Answers for the engine: every resource is created with its inputs plus mock outputs."""

    def __init__(self) -> None:
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}
        self.providers: dict[tuple[str, str], str | None] = {}
        self._lock = threading.Lock()

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        """Record the inputs of a created resource (reads are not recorded) and answer."""
        if not args.resource_id:
            with self._lock:
                if (args.typ, args.name) in self.inputs:
                    raise PlanError(f"two resources named {args.name!r} of type {args.typ}")
                self.inputs[(args.typ, args.name)] = args.inputs
                self.providers[(args.typ, args.name)] = args.provider or None
        return f"{args.name}-id", _mock_outputs(args.typ, args.name, args.inputs)

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """Answer the lookups the program may make (AWS-managed prefix lists, by name); any
        other call is a bug in it."""
        if args.token == "aws:ec2/getManagedPrefixList:getManagedPrefixList":
            name = str(args.args.get("name", ""))
            return {"id": f"pl-mock-{name}", "name": name, "entries": []}, []
        raise PlanError(
            f"the program called {args.token}; the offline plan allows no provider calls"
        )


class RecordingMonitor(MockMonitor):
    """The mock monitor, remembering each registration's parent and kind."""

    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.registrations: list[tuple[str, str, str, str | None, bool, bool]] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        """Register as the mock monitor does, then remember (urn, type, name, parent, custom,
        protect)."""
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                (
                    response.urn,
                    request.type,
                    request.name,
                    request.parent or None,
                    bool(request.custom),
                    bool(request.protect),
                )
            )
        return response

    def planned(self, mocks: PlanMocks) -> list[PlannedResource]:
        """Every registered resource with its recorded inputs."""
        return [
            PlannedResource(
                urn,
                typ,
                name,
                parent,
                custom,
                mocks.inputs.get((typ, name), {}),
                mocks.providers.get((typ, name)),
                protect,
            )
            for urn, typ, name, parent, custom, protect in self.registrations
        ]
