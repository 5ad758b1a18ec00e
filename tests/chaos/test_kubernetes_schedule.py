"""A ChaosSchedule's run, for real: the operator makes the CronJob, and its container's command
runs here (no container runtime) against the repository's experiment, with the container's env,
authenticated as the schedule's own ServiceAccount: experiment, wiring and RBAC together."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chaos.errors import ChaosError
from chaos.kubernetes import actions
from k8s_operator import crds, deploy
from k8s_operator.kube import Kube, KubeError
from localplatform import kubeconfig
from localplatform.cluster import API_SERVER, LocalPlatform
from tests.chaos import k8s_workloads as wl
from tests.k8s_operator import conftest as operator_fixtures
from tests.k8s_operator.conftest import OperatorProcess
from tests.waiting import wait_until

kube = operator_fixtures.kube  # the operator tests' fixtures: CRDs installed, operator running
operator = operator_fixtures.operator

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


def _schedule(namespace: str, name: str, experiment: str, selector: str) -> dict[str, Any]:
    key, value = selector.split("=")
    return {
        "apiVersion": crds.API_VERSION,
        "kind": "ChaosSchedule",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "schedule": "0 */6 * * *",
            "experiment": experiment,
            "image": "librechat-ops:0.1.0",
            "targetSelector": {"matchLabels": {key: value}},
        },
    }


def _service_account_kubeconfig(
    client: Kube, platform: LocalPlatform, namespace: str, name: str, path: Path
) -> Path:
    token = client.request(
        "POST",
        client.path("ServiceAccount", namespace, name) + "/token",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
    )["status"]["token"]
    kubeconfig.write(path, server=API_SERVER, ca_file=platform.layout.pki.ca_cert, token=token)
    return path


def _local_argv(command: list[str], tmp_path: Path) -> list[str]:
    """The container's command with this checkout's paths: the venv's `chaos`, the repository's
    experiments for /experiments, ``tmp_path`` for the container's /tmp."""
    assert command[0] == "chaos"
    argv = [str(Path(sys.executable).parent / "chaos")]
    for arg in command[1:]:
        # /tmp first: a checkout under /tmp (a `mktemp -d` clone) must not have its path rewritten.
        local = arg.replace("/tmp/", f"{tmp_path}/")
        argv.append(local.replace("/experiments/", f"{REPO}/chaos/experiments/"))
    return argv


def test_scheduled_pod_kill_runs_with_the_schedules_rights(
    kube: Kube,
    operator: OperatorProcess,
    local_platform: LocalPlatform,
    namespace: str,
    tmp_path: Path,
) -> None:
    for obj in deploy.rbac():  # what `librechat-ops operator install` applies: the chaos role
        kube.apply(obj)
    selector = wl.create(local_platform, namespace, "gateway", 10)
    kube.apply(_schedule(namespace, "gateway-kill", "ai-gateway-pod-kill", selector))
    cron = wait_until(lambda: kube.get("CronJob", namespace, "chaos-gateway-kill"), 30, "CronJob")
    assert cron["spec"]["schedule"] == "0 */6 * * *"
    assert cron["spec"]["suspend"] is False
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    command = container["command"]
    assert "--rollback-strategy=always" in command
    assert command[-1] == "/experiments/ai-gateway-pod-kill.json"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env == {"LIBRECHAT_CHAOS_NAMESPACE": namespace, "LIBRECHAT_CHAOS_SELECTOR": selector}
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]

    account = pod["serviceAccountName"]
    wait_until(lambda: kube.get("RoleBinding", namespace, account), 30, "the RoleBinding")
    config = _service_account_kubeconfig(
        kube, local_platform, namespace, account, tmp_path / "sa.kubeconfig"
    )
    before = {p["metadata"]["name"] for p in wl.pods(local_platform, namespace, selector)}
    run_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LIBRECHAT_CHAOS_")},
        **env,
        "KUBECONFIG": str(config),
        "LIBRECHAT_CHAOS_WINDOW_S": "2",  # the short version of the 30 s window
        "LIBRECHAT_CHAOS_RECOVERY_S": "60",
    }
    done = subprocess.run(
        _local_argv(command, tmp_path),
        env=run_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    journal = json.loads((tmp_path / "journal.json").read_text())
    log = (tmp_path / "chaostoolkit.log").read_text()
    assert done.returncode == 0, done.stdout[-3000:] + log[-3000:]
    assert journal["status"] == "completed"
    assert journal["deviated"] is False
    killed = journal["run"][0]["output"]
    assert journal["run"][0]["activity"]["name"] == "terminate-a-fraction-of-the-pods"
    assert len(killed) == 1  # 10 % of 10
    assert set(killed) <= before
    assert not set(killed) & {
        p["metadata"]["name"] for p in wl.pods(local_platform, namespace, selector)
    }
    [rollback] = journal["rollbacks"]
    assert rollback["status"] == "succeeded"
    assert rollback["output"] == ["gateway"]

    # The schedule's identity has its namespace's rights only: no node faults with it.
    with pytest.raises(ChaosError, match="forbidden") as denied:
        actions.cordon_nodes("type=kwok", None, {"kubeconfig_path": str(config)})
    assert "librechat-chaos" in denied.value.hint


def test_node_loss_cannot_be_scheduled(
    kube: Kube,
    namespace: str,
) -> None:
    with pytest.raises(KubeError) as refused:
        kube.apply(_schedule(namespace, "lose-a-node", "node-loss", "app=x"))
    assert refused.value.status == 422
    assert "needs cluster-wide rights" in refused.value.reason
    assert kube.get("CronJob", namespace, "chaos-lose-a-node") is None
