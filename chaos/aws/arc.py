"""Calls to the Route 53 ARC cluster data plane (``route53-recovery-cluster``) through boto3.

What belongs here: parsing the cluster endpoints, trying them in turn (AWS advises retrying on
another of the cluster's five regional endpoints) and turning botocore errors into chaos errors.
Credentials come from boto3's usual chain (environment, profile, instance role).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
)

from ..errors import ChaosError, TargetNotFoundError, UnreachableError

SERVICE = "route53-recovery-cluster"
"""boto3's name of the ARC data-plane API."""

_HOST = re.compile(r"^https://[^/]+\.route53-recovery-cluster\.([a-z0-9-]+)\.amazonaws\.com(/.*)?$")
_RETRY_ON = {"ThrottlingException", "InternalServerException", "EndpointTemporarilyUnavailable"}


def endpoints(cluster_endpoints: str) -> list[tuple[str, str]]:
    """(region, URL) of each comma-separated cluster endpoint, as ``describe-cluster`` lists."""
    found = []
    for url in (u.strip() for u in cluster_endpoints.split(",")):
        match = _HOST.match(url)
        if url and not match:
            raise ChaosError(
                f"{url!r} is not an ARC cluster endpoint",
                hint="copy ClusterEndpoints from `aws route53-recovery-control-config "
                "describe-cluster` (https://<id>.route53-recovery-cluster.<region>.amazonaws.com/v1)",
            )
        if match:
            found.append((match.group(1), url))
    if not found:
        raise ChaosError(
            "no ARC cluster endpoint given",
            hint="set cluster_endpoints (env ARC_CLUSTER_ENDPOINTS) to the cluster's endpoints",
        )
    return found


def call(cluster_endpoints: str, operation: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Run ``operation(client)`` on the first cluster endpoint that answers."""
    failures = []
    for region, url in endpoints(cluster_endpoints):
        client = boto3.client(SERVICE, region_name=region, endpoint_url=url)
        try:
            return operation(client)
        except NoCredentialsError:
            raise ChaosError(
                "no AWS credentials for the ARC cluster",
                hint="export AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
            ) from None
        except EndpointConnectionError as exc:
            failures.append(f"{region}: {exc}")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", str(exc))
            if code in _RETRY_ON:
                failures.append(f"{region}: {code}")
                continue
            if code == "ResourceNotFoundException":
                raise TargetNotFoundError(
                    f"ARC says: {message}", hint="check the routing control ARN"
                ) from None
            raise ChaosError(f"ARC refused ({code}): {message}") from None
        except BotoCoreError as exc:
            failures.append(f"{region}: {exc}")
    raise UnreachableError(
        "no ARC cluster endpoint answered: " + "; ".join(failures),
        hint="check network access to the cluster endpoints, or try again later",
    )
