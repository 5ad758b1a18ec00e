"""The distributed-mode manifests agree with each other and with the locustfile's options."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import loadtests

MANIFEST = Path(loadtests.__file__).parent / "deploy" / "locust-distributed.yaml"
LOCUSTFILE = Path(loadtests.__file__).parent / "locustfiles" / "librechat.py"


def _docs() -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in yaml.safe_load_all(MANIFEST.read_text())}


def test_workers_reach_the_master_through_its_service() -> None:
    docs = _docs()
    service, master, workers = docs["Service"], docs["Job"], docs["Deployment"]
    master_labels = master["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= master_labels.items()
    worker_args = workers["spec"]["template"]["spec"]["containers"][0]["args"][0]
    assert f"--master-host {service['metadata']['name']}" in worker_args
    assert f"--master-port {service['spec']['ports'][0]['port']}" in worker_args
    assert workers["spec"]["replicas"] == int(docs["ConfigMap"]["data"]["EXPECT_WORKERS"])


def test_every_custom_option_exists_in_the_locustfile() -> None:
    docs = _docs()
    text = LOCUSTFILE.read_text()
    for kind in ("Job", "Deployment"):
        args = docs[kind]["spec"]["template"]["spec"]["containers"][0]["args"][0]
        for option in (word for word in args.split() if word.startswith("--lco-")):
            assert f'"{option}"' in text, option


def test_pods_meet_the_restricted_pod_security_profile() -> None:
    docs = _docs()
    for kind in ("Job", "Deployment"):
        pod = docs[kind]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
