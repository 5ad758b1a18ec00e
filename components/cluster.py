"""Cluster: EKS with on-demand and spot managed node groups, IRSA, control-plane logs, KMS.

What belongs here: the Cluster component, its Args, and the pure pieces (log types, IRSA trust
policy, kubeconfig) that tests and other components use.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .common import assume_role_policy, child_opts, named
from .spec import NodePool, Nodes

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
"""Every EKS control-plane log type."""

NODE_POLICIES = (
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
)
"""Managed policies every worker node role needs. The VPC CNI's rights are not among them: the
``vpc-cni`` add-on has its own IRSA role (:data:`CNI_POLICY`), so no pod inherits them."""

EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
"""What the EBS CSI driver needs: create, attach and delete volumes."""

CNI_POLICY = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"
"""What the VPC CNI (``kube-system/aws-node``) needs: assign addresses to pods."""


def irsa_trust_policy(
    provider_arn: str, issuer_url: str, namespace: str, account: str | Sequence[str]
) -> str:
    """Trust policy letting Kubernetes service accounts (one, or several of one namespace)
    assume a role (IRSA)."""
    issuer = issuer_url.removeprefix("https://")
    accounts = [account] if isinstance(account, str) else list(account)
    subjects = [f"system:serviceaccount:{namespace}:{a}" for a in accounts]
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": subjects[0] if len(subjects) == 1 else subjects,
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        }
    )


def kubeconfig(cluster_name: str, region: str, endpoint: str, ca_data: str) -> str:
    """A kubeconfig that authenticates with ``aws eks get-token`` (no credentials inside)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster_name,
                    "cluster": {"server": endpoint, "certificate-authority-data": ca_data},
                }
            ],
            "contexts": [
                {"name": cluster_name, "context": {"cluster": cluster_name, "user": "aws"}}
            ],
            "current-context": cluster_name,
            "users": [
                {
                    "name": "aws",
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                cluster_name,
                                "--region",
                                region,
                            ],
                        }
                    },
                }
            ],
        }
    )


@dataclass(frozen=True)
class ClusterArgs:
    """Inputs of :class:`Cluster`."""

    cluster_name: str
    """EKS cluster name (also names its log group)."""
    region: str
    """AWS region."""
    version: str
    """Kubernetes version of the control plane."""
    subnet_ids: list[pulumi.Output[str]]
    """Private subnets for the control-plane ENIs and the nodes."""
    private_endpoint: bool
    """True: no public API endpoint."""
    nodes: Nodes
    """Node groups (on-demand and optional spot)."""
    log_retention_days: int
    """Retention of the control-plane log group."""
    tags: dict[str, str]
    """Tags for every resource."""
    api_access_cidrs: tuple[str, ...] = ()
    """The public endpoint's allowed sources (when it is public)."""


class Cluster(pulumi.ComponentResource):
    """An EKS cluster whose Secrets are envelope-encrypted with its own KMS key."""

    name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    node_security_group: pulumi.Output[str]
    """EKS's cluster security group, on every managed node (and so on every pod)."""
    kms_key_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("librechat:cluster:Cluster", name, None, opts)
        tags = args.tags
        key = aws.kms.Key(
            f"{name}-secrets",
            description=f"Envelope encryption of Kubernetes Secrets in {args.cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags,
            opts=child_opts(self),
        )
        role = aws.iam.Role(
            f"{name}-control-plane",
            assume_role_policy=assume_role_policy("eks.amazonaws.com"),
            tags=tags,
            opts=child_opts(self),
        )
        attach = aws.iam.RolePolicyAttachment(
            f"{name}-control-plane",
            role=role.name,
            policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            opts=child_opts(self),
        )
        logs = aws.cloudwatch.LogGroup(
            f"{name}-control-plane",
            name=f"/aws/eks/{args.cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child_opts(self),
        )
        cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=args.version,
            role_arn=role.arn,
            vpc_config={
                "subnet_ids": args.subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": not args.private_endpoint,
                "public_access_cidrs": None
                if args.private_endpoint
                else list(args.api_access_cidrs),
            },
            access_config={"authentication_mode": "API"},
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            tags=named(tags, args.cluster_name),
            opts=child_opts(self, depends_on=[attach, logs]),
        )
        oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer or ""),  # type: ignore[index]
            client_id_lists=["sts.amazonaws.com"],
            tags=tags,
            opts=child_opts(self),
        )
        node_role = aws.iam.Role(
            f"{name}-nodes",
            assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
            tags=tags,
            opts=child_opts(self),
        )
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-nodes-{arn.rsplit('/', 1)[1]}",
                role=node_role.name,
                policy_arn=arn,
                opts=child_opts(self),
            )
            for arn in NODE_POLICIES
        ]
        template = aws.ec2.LaunchTemplate(
            f"{name}-nodes",
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "volume_size": args.nodes.disk_gib,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            # IMDSv2 only, and one hop: a pod cannot reach the node's metadata (and its role);
            # pods get AWS rights through IRSA alone.
            metadata_options={"http_tokens": "required", "http_put_response_hop_limit": 1},
            tags=tags,
            opts=child_opts(self),
        )
        pools: list[tuple[str, NodePool]] = [("ON_DEMAND", args.nodes.on_demand)]
        if args.nodes.spot is not None:
            pools.append(("SPOT", args.nodes.spot))
        for capacity, pool in pools:
            label = capacity.lower().replace("_", "-")
            aws.eks.NodeGroup(
                f"{name}-{label}",
                cluster_name=cluster.name,
                node_role_arn=node_role.arn,
                subnet_ids=args.subnet_ids,
                capacity_type=capacity,
                instance_types=list(pool.instance_types),
                scaling_config={
                    "desired_size": pool.count,
                    "min_size": pool.count,
                    "max_size": pool.max_count,
                },
                launch_template={"id": template.id, "version": template.latest_version.apply(str)},
                labels={"librechat.io/capacity": label},
                update_config={"max_unavailable_percentage": 10},
                tags=tags,
                opts=child_opts(self, depends_on=attachments),
            )
        # The EBS CSI driver (encrypted gp3 volumes for in-cluster stores) and the VPC CNI (its
        # rights not on the nodes' role), each through IRSA.
        for suffix, addon in (
            ("ebs-csi", ("aws-ebs-csi-driver", "ebs-csi-controller-sa", EBS_CSI_POLICY)),
            ("vpc-cni", ("vpc-cni", "aws-node", CNI_POLICY)),
        ):
            self._irsa_addon(f"{name}-{suffix}", cluster, oidc, tags, addon)
        self.name = cluster.name
        self.node_security_group = cluster.vpc_config.apply(
            lambda c: c.cluster_security_group_id or ""
        )
        self.kms_key_arn = key.arn
        self.oidc_provider_arn = oidc.arn
        self.oidc_issuer_url = oidc.url
        self.kubeconfig = pulumi.Output.all(
            cluster.name,
            cluster.endpoint,
            cluster.certificate_authority.apply(lambda c: c.data or ""),
        ).apply(lambda v: kubeconfig(v[0], args.region, v[1], v[2]))
        self.register_outputs({"name": cluster.name, "oidc_provider_arn": oidc.arn})

    def _irsa_addon(
        self,
        name: str,
        cluster: aws.eks.Cluster,
        oidc: aws.iam.OpenIdConnectProvider,
        tags: dict[str, str],
        addon: tuple[str, str, str],
    ) -> None:
        """An EKS add-on with its own IRSA role: (add-on, its kube-system ServiceAccount, the
        managed policy it needs)."""
        addon_name, account, policy = addon
        role = aws.iam.Role(
            name,
            assume_role_policy=pulumi.Output.all(oidc.arn, oidc.url).apply(
                lambda v: irsa_trust_policy(v[0], v[1], "kube-system", account)
            ),
            tags=tags,
            opts=child_opts(self),
        )
        attach = aws.iam.RolePolicyAttachment(
            name, role=role.name, policy_arn=policy, opts=child_opts(self)
        )
        aws.eks.Addon(
            name,
            cluster_name=cluster.name,
            addon_name=addon_name,
            service_account_role_arn=role.arn,
            tags=tags,
            opts=child_opts(self, depends_on=[attach]),
        )
