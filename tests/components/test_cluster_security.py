"""EKS: all control-plane logs, KMS envelope encryption of Secrets, IRSA, private endpoint."""

from __future__ import annotations

import json

from components.cluster import CONTROL_PLANE_LOG_TYPES, irsa_trust_policy

from .planning import plan_of


def test_every_cluster_logs_all_control_plane_types_and_encrypts_secrets() -> None:
    for env in ("staging", "production"):
        for cluster in plan_of(env).of_type("aws:eks/cluster:Cluster"):
            assert set(cluster.inputs["enabledClusterLogTypes"]) == set(CONTROL_PLANE_LOG_TYPES)
            assert len(CONTROL_PLANE_LOG_TYPES) == 5
            encryption = cluster.inputs["encryptionConfig"]
            assert encryption["resources"] == ["secrets"]
            assert encryption["provider"]["keyArn"]


def test_production_api_endpoint_is_private_and_staging_public() -> None:
    for env, public in (("production", False), ("staging", True)):
        for cluster in plan_of(env).of_type("aws:eks/cluster:Cluster"):
            vpc = cluster.inputs["vpcConfig"]
            assert vpc["endpointPrivateAccess"] is True
            assert vpc["endpointPublicAccess"] is public
            # A public endpoint admits the configured CIDRs only, never the whole internet.
            assert bool(vpc.get("publicAccessCidrs")) is public
            assert "0.0.0.0/0" not in vpc.get("publicAccessCidrs", [])


def test_each_cluster_has_an_oidc_provider_used_by_an_irsa_role() -> None:
    plan = plan_of("production")
    providers = plan.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert len(providers) == 3
    assert all(p.inputs["clientIdLists"] == ["sts.amazonaws.com"] for p in providers)
    addons = plan.of_type("aws:eks/addon:Addon")
    assert (
        sorted(a.inputs["addonName"] for a in addons)
        == ["aws-ebs-csi-driver"] * 3 + ["vpc-cni"] * 3
    )
    assert all(a.inputs["serviceAccountRoleArn"] for a in addons)


def test_the_nodes_role_holds_no_cni_rights_and_pods_cannot_reach_its_credentials() -> None:
    """The VPC CNI's rights are its add-on's IRSA role's; IMDSv2 with one hop keeps pods away
    from the node's metadata (and the node role's credentials)."""
    plan = plan_of("production")
    attachments = plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    cni = [a for a in attachments if a.inputs["policyArn"].endswith("/AmazonEKS_CNI_Policy")]
    assert cni
    assert all(a.name.endswith("-vpc-cni") for a in cni)
    for template in plan.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        options = template.inputs["metadataOptions"]
        assert options == {"httpTokens": "required", "httpPutResponseHopLimit": 1}


def test_irsa_trust_policy_pins_one_service_account() -> None:
    doc = json.loads(
        irsa_trust_policy(
            "arn:aws:iam::1:oidc-provider/x", "https://oidc.eks/id/ABC", "kube-system", "sa"
        )
    )
    statement = doc["Statement"][0]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"]["StringEquals"] == {
        "oidc.eks/id/ABC:sub": "system:serviceaccount:kube-system:sa",
        "oidc.eks/id/ABC:aud": "sts.amazonaws.com",
    }


def test_node_volumes_are_encrypted_and_imdsv2_required() -> None:
    for env in ("staging", "production"):
        for template in plan_of(env).of_type("aws:ec2/launchTemplate:LaunchTemplate"):
            ebs = template.inputs["blockDeviceMappings"][0]["ebs"]
            assert ebs["encrypted"] == "true"
            assert template.inputs["metadataOptions"]["httpTokens"] == "required"
