"""The AI gateway in the simulator: LiteLLM's real proxy, with the production configuration, between
the replicas and two mock LLMs; a slow primary makes LiteLLM time it out and fall back.

One simulator (one replica, Toxiproxy in front of the primary mock LLM, LiteLLM installed into its
cached venv) serves the module; the tests that slow the primary remove the toxic afterwards.
"""

from __future__ import annotations

import copy
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from chaos.network import actions
from chaos.simulator import actions as sim_actions
from chaos.simulator.chat import ChatClient
from components.gateway import litellm_config
from librechat_ops.gateway import local_config, production_settings, sim_gateway
from librechat_ops.settings import Settings
from librechat_ops.verification.spec import SHORTENED
from librechat_sim import gateway
from librechat_sim.cluster import Cluster
from librechat_sim.config import LLMConfig
from librechat_sim.description import ClusterInfo, load
from librechat_sim.errors import SimError
from librechat_sim.llm import reply_tokens
from librechat_sim.processes import alive, kill
from slos.definition import environment
from slos.sli import LITELLM_BUCKETS_S, sli
from tests.simclient import sim_config

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

USER, PASSWORD = "loadtest-0@example.com", "loadtest-password"
REPLY_TOKENS = 12


@pytest.fixture(scope="module")
def sim(toxiproxy_server: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterInfo]:
    """A simulator whose replica streams from LiteLLM, which reaches its primary mock LLM through
    Toxiproxy's ``llm`` proxy; always stopped."""
    ai = sim_gateway(Settings.from_env().cache_dir, port=0, fallback_llm_port=0)
    config = sim_config(
        tmp_path_factory.mktemp("gatewaysim"),
        replicas=1,
        seed_users=2,
        seed_conversations=1,
        llm=LLMConfig(ttft_ms=20, tokens_per_second=500, reply_tokens=REPLY_TOKENS),
        toxiproxy=str(toxiproxy_server),
        toxiproxy_port=0,
        toxiproxy_upstreams=("llm",),
        gateway=ai,
    )
    with Cluster(config) as info:
        yield info


@pytest.fixture
def slow_primary(sim: ClusterInfo) -> Iterator[int]:
    """The primary's link slowed by the verification's default fault (above its stream timeout);
    yields the latency in ms and removes the toxic afterwards."""
    configuration = {"toxiproxy_port": sim.config.toxiproxy_port}
    latency_ms = int(SHORTENED["LLM_LATENCY_MS"])
    # As the experiment does: on the requests (a timed-out connection leaves no reply stuck).
    actions.add_latency("llm", latency_ms, stream="upstream", configuration=configuration)
    yield latency_ms
    actions.reset_toxiproxy(configuration)


def ask_gateway(info: ClusterInfo, prompt: str, **extra: Any) -> tuple[dict[str, str], float, str]:
    """Stream one reply straight from the gateway: its headers, the seconds to the first content
    chunk, and the text."""
    ai = info.config.gateway
    body = {"model": ai.model, "stream": True, "messages": [{"role": "user", "content": prompt}]}
    request = urllib.request.Request(
        f"http://127.0.0.1:{ai.port}/v1/chat/completions",
        data=json.dumps(body | extra).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {ai.master_key}"},
    )
    started, first, text = time.monotonic(), 0.0, ""
    with urllib.request.urlopen(request, timeout=30) as response:
        headers = {k.lower(): v for k, v in response.headers.items()}
        for raw in response:
            line = raw.decode().strip()
            if not line.startswith("data:") or line == "data: [DONE]":
                continue
            choices = json.loads(line[5:]).get("choices") or [{}]
            token = (choices[0].get("delta") or {}).get("content")
            if token:
                first = first or time.monotonic() - started
                text += token
    return headers, first, text


def metric(info: ClusterInfo, name: str, **labels: str) -> float:
    """The sum of a counter's samples on the gateway's ``/metrics`` whose labels include
    ``labels``."""
    ai = info.config.gateway
    request = urllib.request.Request(
        f"http://127.0.0.1:{ai.port}/metrics/",
        headers={"Authorization": f"Bearer {ai.master_key}"},  # the master key guards it too
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == f"{name}_total" and labels.items() <= sample.labels.items()
    )


def chat(info: ClusterInfo, prompt: str) -> tuple[str, bool, float]:
    """A chat through the simulator's front: the reply's final text, whether it completed, and
    how long it took."""
    client = ChatClient(info.url, USER, PASSWORD, timeout_s=20)
    started = time.monotonic()
    delivery = client.follow_to_end(client.start(prompt), within_s=30)
    return delivery.final_text, delivery.final, time.monotonic() - started


def test_the_replicas_chat_through_the_gateway(sim: ClusterInfo) -> None:
    assert [c.name for c in sim.children][1:5] == ["llm", "toxiproxy", "llm-fallback", "gateway"]
    served = metric(sim, "litellm_deployment_success_responses", model_id="primary")
    text, final, _ = chat(sim, "through the gateway")
    assert final
    assert text == "".join(reply_tokens("through the gateway", REPLY_TOKENS))
    after = metric(sim, "litellm_deployment_success_responses", model_id="primary")
    assert after == served + 1


def test_the_gateway_passes_the_mocks_skip_field_on(sim: ClusterInfo) -> None:
    # A replica taking a job over asks for the rest of the reply with sim_skip_tokens.
    headers, _, text = ask_gateway(sim, "resume me", sim_skip_tokens=REPLY_TOKENS - 3)
    assert headers["x-litellm-model-id"] == "primary"
    assert text == "".join(reply_tokens("resume me", REPLY_TOKENS)[-3:])


def test_a_primary_slower_than_its_stream_timeout_falls_back(
    sim: ClusterInfo, slow_primary: int
) -> None:
    stream_timeout_s = production_settings().primary.stream_timeout_s
    # verify's fault, jitter and all, is slower than the primary's stream timeout.
    least_ms = int(SHORTENED["LLM_LATENCY_MS"]) - int(SHORTENED["LLM_JITTER_MS"])
    assert least_ms / 1000 > stream_timeout_s
    fallbacks = metric(sim, "litellm_deployment_successful_fallbacks")
    headers, first_token_s, text = ask_gateway(sim, "is anyone there?")
    # LiteLLM waited out the primary's stream timeout, then the fallback deployment answered.
    assert headers["x-litellm-model-id"] == "fallback"
    assert headers["x-litellm-attempted-fallbacks"] == "1"
    fallback_port = sim.config.gateway.fallback_llm_port
    assert headers["x-litellm-model-api-base"] == f"http://127.0.0.1:{fallback_port}/v1"
    assert stream_timeout_s <= first_token_s < slow_primary / 1000
    assert text == "".join(reply_tokens("is anyone there?", REPLY_TOKENS))
    # A chat through the simulator completes whole, served by the fallback.
    text, final, _ = chat(sim, "still answering?")
    assert final
    assert text == "".join(reply_tokens("still answering?", REPLY_TOKENS))
    assert metric(sim, "litellm_deployment_successful_fallbacks") == fallbacks + 2
    timeouts = metric(sim, "litellm_deployment_failure_responses", model_id="primary")
    assert timeouts >= 2


def test_the_simulator_runs_the_production_config_but_the_upstreams(sim: ClusterInfo) -> None:
    production = litellm_config(production_settings())
    local = local_config(production_settings())
    assert sim.config.gateway.config == local

    def without_upstreams(config: dict[str, Any]) -> dict[str, Any]:
        stripped = copy.deepcopy(config)
        for entry in stripped["model_list"]:
            del entry["litellm_params"]["api_base"]
        return stripped

    assert without_upstreams(local) == without_upstreams(production)
    bases = [e["litellm_params"]["api_base"] for e in local["model_list"]]
    assert bases == [gateway.placeholder(gateway.PRIMARY), gateway.placeholder(gateway.FALLBACK)]
    assert all(
        e["litellm_params"]["api_base"].startswith("https://") for e in production["model_list"]
    )
    resolved = json.loads((sim.config.state_dir / "sim" / "litellm.json").read_text())
    assert [e["litellm_params"]["api_base"] for e in resolved["model_list"]] == [
        f"http://127.0.0.1:{port}/v1"
        for port in (_proxy_port(sim), sim.config.gateway.fallback_llm_port)
    ]


def _proxy_port(sim: ClusterInfo) -> int:
    proxies = json.loads((sim.config.state_dir / "sim" / "toxiproxy.json").read_text())
    (llm,) = [p for p in proxies if p["name"] == "llm"]
    return int(llm["listen"].rsplit(":", 1)[1])


def test_a_deployment_outside_the_simulator_is_refused() -> None:
    config = local_config(production_settings())
    config["model_list"][1]["litellm_params"]["api_base"] = "https://api.openai.com/v1"
    with pytest.raises(SimError, match="not at one of the simulator's mock LLMs"):
        gateway.resolve(config, {gateway.PRIMARY: 1, gateway.FALLBACK: 2})


def test_the_rollback_starts_a_killed_gateway_again(sim: ClusterInfo) -> None:
    kill(sim.child("gateway"))
    restarted = sim_actions.restore_all({"sim_state_dir": str(sim.config.state_dir)})
    assert restarted == ["gateway"]
    again = load(sim.config.state_dir).child("gateway")
    assert alive(again)
    assert again.pid != sim.child("gateway").pid
    text, final, _ = chat(sim, "back again")
    assert final
    assert text == "".join(reply_tokens("back again", REPLY_TOKENS))


def test_the_gateway_counts_first_tokens_at_the_slo_threshold(sim: ClusterInfo) -> None:
    """The production config's ``prometheus_latency_buckets`` reach LiteLLM: its time-to-first-
    token histogram has the bucket the generated ai_inference rule reads (slos.sli)."""
    chat(sim, "count my first token")
    ai = sim.config.gateway
    request = urllib.request.Request(
        f"http://127.0.0.1:{ai.port}/metrics/",
        headers={"Authorization": f"Bearer {ai.master_key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    bounds = {
        sample.labels["le"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "litellm_llm_api_time_to_first_token_metric_bucket"
    }
    threshold_s = environment("production").journeys["ai_inference"].threshold(0.99) / 1000
    assert sli("kong", "ai_inference").buckets.startswith("litellm_llm_api_time_to_first_token")
    assert str(threshold_s) in bounds, sorted(bounds)
    assert {str(b) for b in LITELLM_BUCKETS_S} <= bounds | {"+Inf"}
