"""Local platform figures: warm `cluster up` to API-ready, 1,000 pods to Running, cold build.

    .venv/bin/python benchmarks/local_platform.py [--rounds 3] [--pods 1000] [--cold-build]

Prints figures; asserts nothing. Needs the platform stopped (it brings its own up and down, in the
normal state directory) and the components built (`librechat-ops cluster build`). Baselines in the
same run: the bare kube-apiserver start (its own time to /readyz, which `up` cannot beat) next to
the whole `up`; 100 pods next to 1,000 pods. `--cold-build` rebuilds everything into a temporary
cache with an empty Go build cache (the module cache is kept), as CI's first run does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from librechat_ops.settings import Settings
from localplatform.build import Builder
from localplatform.cluster import LocalPlatform
from localplatform.kubeapi import KubeApi
from localplatform.nodes import wait_for_service_account


def time_up(platform: LocalPlatform, rounds: int) -> None:
    fresh, api_ready, restart = [], [], []
    for _ in range(rounds):
        platform.down()
        marks: dict[str, float] = {}
        t0 = time.monotonic()

        def mark(msg: str, marks: dict[str, float] = marks, t0: float = t0) -> None:
            marks.setdefault(msg.split(maxsplit=1)[0], time.monotonic() - t0)

        platform.up(3, on_step=mark)
        fresh.append(time.monotonic() - t0)
        api_ready.append(marks["kube-apiserver"])
        platform.down(keep_data=True)
        t0 = time.monotonic()
        platform.up(3)
        restart.append(time.monotonic() - t0)
    print(
        f"{'cluster up (fresh state, 3 nodes Ready)':48} median {statistics.median(fresh):6.2f} s"
    )
    label = "  of which: API server answering /readyz"
    print(f"{label:48} median {statistics.median(api_ready):6.2f} s")
    print(f"{'cluster up after down --keep-data':48} median {statistics.median(restart):6.2f} s")
    print(f"{'  (goal: warm up to API-ready <= 15 s)':48}")


def _deployment(name: str, replicas: int) -> dict[str, object]:
    labels = {"app": name}
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "librechat:bench"}]},
            },
        },
    }


def time_pods(api: KubeApi, total: int, per_deployment: int = 100) -> float:
    ns = f"bench-pods-{total}-{os.getpid()}"
    api.request("POST", "/api/v1/namespaces", {"metadata": {"name": ns}})
    wait_for_service_account(api, ns)
    t0 = time.monotonic()
    for i in range(max(1, total // per_deployment)):
        body = _deployment(f"d{i}", min(per_deployment, total))
        api.request("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", body)
    running = 0
    while running < total:
        time.sleep(0.5)
        pods = api.request(
            "GET", f"/api/v1/namespaces/{ns}/pods?fieldSelector=status.phase%3DRunning"
        )
        running = len(pods["items"])
        if time.monotonic() - t0 > 600:
            print(f"  gave up: {running}/{total} Running after 600 s")
            break
    elapsed = time.monotonic() - t0
    api.request("DELETE", f"/api/v1/namespaces/{ns}")
    return elapsed


def cold_build() -> None:
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as gocache:
        os.environ["GOCACHE"] = gocache
        t0 = time.monotonic()
        Builder(Path(cache), progress=lambda *_: None).ensure()
        elapsed = time.monotonic() - t0
        infos = [json.loads(p.read_text()) for p in Path(cache).glob("bin/*/BUILD-INFO.json")]
    for info in sorted(infos, key=lambda i: str(i["component"])):
        print(f"  {info['component']:12} {info['seconds']:7.1f} s")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{'cold build, all components (empty GOCACHE)':48} {elapsed:7.1f} s")
    print(f"{'  peak RSS of one go process':48} {peak:7.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--cold-build", action="store_true")
    args = parser.parse_args()
    settings = Settings.from_env()
    platform = LocalPlatform(settings.state_dir, settings.cache_dir)
    if any(row.state != "stopped" for row in platform.status()):
        sys.exit("stop your platform first (`librechat-ops cluster down --keep-data`)")
    if args.cold_build:
        cold_build()
    platform.builder.ensure()
    v = platform.versions
    print(f"Kubernetes {v.kubernetes}, etcd {v.etcd}, kwok {v.kwok}")
    time_up(platform, args.rounds)
    platform.up(3)
    try:
        for total in (100, args.pods):
            seconds = time_pods(platform.api(), total)
            label = f"{total} pods from Deployments to Running"
            print(f"{label:48} {seconds:7.1f} s  ({total / seconds:.0f} pods/s)")
        print(f"{'  (goal: 1,000 pods <= 60 s)':48}")
        rss = subprocess.run(
            [
                "ps",
                "-o",
                "rss=,comm=",
                "-p",
                ",".join(str(r.pid) for r in platform.status() if r.pid),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
        for line in filter(None, rss):
            kib, name = line.split(None, 1)
            print(f"  RSS {name:32} {int(kib) / 1024:7.0f} MiB")
    finally:
        platform.down()


if __name__ == "__main__":
    main()
