"""Kubernetes faults and probes against the real local platform (kwok runs the pods).

Node faults hit a private pool of kwok nodes the test makes (see ``k8s_workloads``), so other
tests never lose a pod, and the platform's three nodes are Ready afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chaos.errors import ChaosError, TargetNotFoundError, UnreachableError
from chaos.kubernetes import actions, nodestate, probes
from chaos.kubernetes.client import core
from localplatform.cluster import LocalPlatform
from tests.chaos import k8s_workloads as wl
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

EXPERIMENTS = Path(__file__).resolve().parents[2] / "chaos" / "experiments"


@pytest.fixture
def conf(local_platform: LocalPlatform) -> dict[str, Any]:
    """The experiment configuration pointing at the local platform (as `chaos run` passes it)."""
    return {"kubeconfig_path": str(local_platform.layout.kubeconfig)}


def test_terminate_a_fraction_and_the_deployment_recovers(
    local_platform: LocalPlatform, namespace: str, conf: dict[str, Any]
) -> None:
    selector = wl.create(local_platform, namespace, "gateway", 10)
    before = {p["metadata"]["name"] for p in wl.pods(local_platform, namespace, selector)}
    assert probes.deployment_available("gateway", namespace, conf) is True
    assert probes.pods_running(selector, namespace, 10, conf) is True

    killed = actions.terminate_pods(selector, namespace, 0.1, 0, 7, conf)
    assert len(killed) == 1  # 10 % of 10
    assert set(killed) <= before
    assert actions.terminate_pods(selector, namespace, 0.1, 0, 7, conf) != []  # seed: repeatable

    def replaced() -> bool:
        now = {p["metadata"]["name"] for p in wl.pods(local_platform, namespace, selector)}
        return len(now) == 10 and not now & set(killed)

    wait_until(replaced, 30, "the killed pods to be replaced")
    assert actions.wait_for_deployments(selector, namespace, 30, conf) == ["gateway"]
    assert probes.running_pods(selector, namespace, conf) == 10
    assert probes.ready_replicas("gateway", namespace, conf) == 10
    assert len(actions.terminate_pods(selector, namespace, 0.3, 0, None, conf)) == 3
    assert len(actions.terminate_pods(selector, namespace, 0.01, 0, None, conf)) == 1  # >= 1


def test_scale_through_the_scale_subresource(
    local_platform: LocalPlatform, namespace: str, conf: dict[str, Any]
) -> None:
    wl.create(local_platform, namespace, "web", 2)
    assert actions.scale_deployment("web", namespace, 4, conf) == 2
    wait_until(lambda: probes.ready_replicas("web", namespace, conf) == 4, 30, "4 ready replicas")
    assert probes.deployment_available("web", namespace, conf) is True
    assert actions.scale_deployment("web", namespace, 0, conf) == 4
    wait_until(lambda: probes.ready_replicas("web", namespace, conf) == 0, 30, "scaled to zero")
    with pytest.raises(TargetNotFoundError, match="deployment nope in namespace"):
        actions.scale_deployment("nope", namespace, 1, conf)


def test_cordon_and_uncordon_nodes(local_platform: LocalPlatform, conf: dict[str, Any]) -> None:
    with wl.private_pool(local_platform) as pool:
        selector = f"{wl.NODE_LABEL}={pool}"
        assert probes.nodes_ready(selector, conf) == 2
        cordoned = actions.cordon_nodes(selector, None, conf)
        assert len(cordoned) == 2
        assert probes.nodes_ready(selector, conf) == 0
        assert actions.uncordon_nodes("", cordoned[:1], conf) == cordoned[:1]
        assert probes.nodes_ready(selector, conf) == 1
        actions.uncordon_nodes(selector, None, conf)
        assert probes.nodes_ready(selector, conf) == 2
    assert probes.nodes_ready("type=kwok", conf) == 3


def test_delete_a_node_and_restore_it(
    local_platform: LocalPlatform, namespace: str, conf: dict[str, Any]
) -> None:
    with wl.private_pool(local_platform) as pool:
        selector = wl.create(local_platform, namespace, "spread", 4, pool=pool)
        nodes = f"{wl.NODE_LABEL}={pool}"
        try:
            lost = actions.delete_nodes(nodes, 1, 3, selector, namespace, True, namespace, conf)
            assert len(lost) == 1
            saved = nodestate.recorded(core(conf), namespace)
            assert set(saved) == set(lost)
            assert saved[lost[0]]["metadata"]["labels"][wl.NODE_LABEL] == pool
            assert probes.nodes_ready(nodes, conf) == 1

            # The lost node's pods went with it; the Deployment is whole again on the other.
            def whole() -> bool:
                running = probes.running_pods(selector, namespace, conf) == 4
                return running and wl.available(local_platform, namespace, "spread")

            wait_until(whole, 30, "4 pods running again on the remaining node")
            hosts = {
                p["spec"].get("nodeName") for p in wl.pods(local_platform, namespace, selector)
            }
            assert lost[0] not in hosts
        finally:
            restored = actions.restore_nodes(namespace, 60, conf)
        assert restored == lost
        assert probes.nodes_ready(nodes, conf) == 2
        assert nodestate.recorded(core(conf), namespace) == {}
        assert actions.restore_nodes(namespace, 60, conf) == []  # nothing left: a no-op
    assert wl.ready_nodes(local_platform, "type=kwok") == [
        "kwok-node-0",
        "kwok-node-1",
        "kwok-node-2",
    ]


def test_never_deletes_the_last_ready_node_of_the_pool(
    local_platform: LocalPlatform, conf: dict[str, Any]
) -> None:
    with wl.private_pool(local_platform) as pool:
        nodes = f"{wl.NODE_LABEL}={pool}"
        with pytest.raises(ChaosError, match="would leave no Ready node matching"):
            actions.delete_nodes(nodes, 2, None, "", "", True, "default", conf)
        with pytest.raises(TargetNotFoundError, match="no nodes match 'no-such=label'"):
            actions.delete_nodes("no-such=label", 1, None, "", "", True, "default", conf)
        with pytest.raises(TargetNotFoundError, match=r"3 node\(s\) wanted but only 2"):
            actions.delete_nodes(nodes, 3, None, "", "", True, "default", conf)
        assert probes.nodes_ready(nodes, conf) == 2


def test_deny_and_allow_traffic(
    local_platform: LocalPlatform, namespace: str, conf: dict[str, Any]
) -> None:
    selector = "app=web,tier!=db"
    name = actions.deny_traffic(namespace, selector, conf)
    assert name.startswith("chaos-deny-app-web-tier-db-")
    assert actions.deny_traffic(namespace, selector, conf) == name  # idempotent
    assert probes.network_policy_exists(namespace, name, conf) is True
    path = f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies/{name}"
    spec = local_platform.api().request("GET", path)["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["podSelector"] == {
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}],
    }
    assert not spec.get("ingress")  # no rule: everything denied
    assert not spec.get("egress")
    assert actions.allow_traffic(namespace, selector, conf) == name
    assert probes.network_policy_exists(namespace, name, conf) is False
    assert actions.allow_traffic(namespace, selector, conf) == name  # already gone: fine


def test_clear_errors_for_user_mistakes(
    local_platform: LocalPlatform, namespace: str, conf: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(ChaosError, match="invalid label selector") as bad:
        probes.pods_running("app==,=x", namespace, 1, conf)
    assert "kubectl's syntax" in bad.value.hint
    with pytest.raises(ChaosError, match="empty"):
        actions.terminate_pods("", namespace, 0.1, 0, None, conf)
    with pytest.raises(TargetNotFoundError, match="namespace no-such-ns does not exist"):
        actions.terminate_pods("app=x", "no-such-ns", 0.1, 0, None, conf)
    with pytest.raises(TargetNotFoundError, match="no pods match 'app=x'"):
        actions.terminate_pods("app=x", namespace, 0.1, 0, None, conf)
    with pytest.raises(TargetNotFoundError, match="deployment missing in namespace"):
        probes.deployment_available("missing", namespace, conf)
    with pytest.raises(TargetNotFoundError, match="no deployments match"):
        probes.deployments_available("app=x", namespace, conf)
    with pytest.raises(ChaosError, match="fraction must be in"):
        actions.terminate_pods("app=x", namespace, 0, 0, None, conf)
    with pytest.raises(ChaosError, match="no nodes chosen"):
        actions.cordon_nodes("", None, conf)
    with pytest.raises(TargetNotFoundError, match="node no-such-node"):
        actions.cordon_nodes("", ["no-such-node"], conf)
    with pytest.raises(TargetNotFoundError, match="namespace no-such-ns"):
        actions.deny_traffic("no-such-ns", "app=x", conf)
    with pytest.raises(UnreachableError, match="does not exist"):
        probes.nodes_ready("", {"kubeconfig_path": str(tmp_path / "none")})


def _chaos_run(
    experiment: str, env: dict[str, str], tmp_path: Path, kubeconfig: Path
) -> dict[str, Any]:
    journal = tmp_path / "journal.json"
    argv = [
        str(Path(sys.executable).parent / "chaos"), "--no-version-check",
        "--log-file", str(tmp_path / "chaostoolkit.log"),
        "run", "--rollback-strategy=always", "--journal-path", str(journal),
        str(EXPERIMENTS / f"{experiment}.json"),
    ]  # fmt: skip
    full_env = {**os.environ, "KUBECONFIG": str(kubeconfig), **env}
    subprocess.run(argv, env=full_env, cwd=tmp_path, timeout=120, check=False, capture_output=True)
    result: dict[str, Any] = json.loads(journal.read_text())
    return result


def _activity(journal: dict[str, Any], name: str) -> dict[str, Any]:
    runs = [*journal["run"], *journal["rollbacks"]]
    return next(r for r in runs if r["activity"]["name"] == name)


def test_node_loss_experiment_short_run(
    local_platform: LocalPlatform, namespace: str, tmp_path: Path
) -> None:
    with wl.private_pool(local_platform) as pool:
        selector = wl.create(local_platform, namespace, "gateway", 4, pool=pool)
        env = {
            "LIBRECHAT_CHAOS_NAMESPACE": namespace,
            "LIBRECHAT_CHAOS_SELECTOR": selector,
            "LIBRECHAT_CHAOS_NODE_SELECTOR": f"{wl.NODE_LABEL}={pool}",
            "LIBRECHAT_CHAOS_STATE_NAMESPACE": namespace,
            "LIBRECHAT_CHAOS_WINDOW_S": "3",
            "LIBRECHAT_CHAOS_RECOVERY_S": "60",
        }
        journal = _chaos_run("node-loss", env, tmp_path, local_platform.layout.kubeconfig)
        assert journal["status"] == "completed", json.dumps(journal, indent=1)[:4000]
        assert journal["deviated"] is False
        lost = _activity(journal, "lose-a-node-running-target-pods")["output"]
        assert len(lost) == 1
        assert _activity(journal, "nodes-ready-during-the-loss")["output"] == 1
        restore = _activity(journal, "restore-the-lost-node")
        assert restore["status"] == "succeeded"
        assert restore["output"] == lost
        assert len(wl.ready_nodes(local_platform, f"{wl.NODE_LABEL}={pool}")) == 2
    assert len(wl.ready_nodes(local_platform, "type=kwok")) == 3
