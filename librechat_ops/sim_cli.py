"""``librechat-ops sim up|down|status``: the local LibreChat API simulator on loopback."""

from __future__ import annotations

from typing import Annotated

import typer

from librechat_sim.config import LLMConfig, SimConfig
from librechat_sim.errors import SimError
from localplatform import toxiproxy
from localplatform.errors import BuildError

from .console import console, fail
from .settings import Settings

sim_app = typer.Typer(
    help="The local LibreChat API simulator: replicas sharing Redis behind haproxy, an AI gateway "
    "(LiteLLM) in front of two mock LLMs.",
    no_args_is_help=True,
)


@sim_app.command()
def up(
    *,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="haproxy's port (the URL); 0 picks a free one.")
    ] = 3080,
    replicas: Annotated[int, typer.Option(min=1, max=16, help="API replicas.")] = 3,
    regions: Annotated[
        int,
        typer.Option(
            min=1, max=2, help="Simulated regions: 2 splits the replicas, a primary and a failover."
        ),
    ] = 1,
    redis_persistence: Annotated[
        bool,
        typer.Option(
            "--redis-persistence/--no-redis-persistence",
            help="Redis fsyncs an append-only file, so a restart loses nothing.",
        ),
    ] = True,
    base_port: Annotated[
        int, typer.Option(min=0, max=65535, help="First replica's port (the others follow).")
    ] = 3081,
    redis_port: Annotated[
        int, typer.Option(min=0, max=65535, help="The simulator's redis-server port.")
    ] = 6380,
    llm_port: Annotated[int, typer.Option(min=0, max=65535, help="The mock LLM's port.")] = 3095,
    ttft_ms: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Fix the mock LLM's time to first token (ms). Default: drawn per request from "
            "GPT-4o-mini's measured distribution (median 645 ms, P99 1,362 ms).",
        ),
    ] = None,
    tokens_per_second: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="Fix the mock LLM's token rate. Default: drawn (GPT-4o-mini, median 105/s).",
        ),
    ] = None,
    reply_tokens: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Fix the tokens per reply. Default: drawn from Azure's LLM conversation trace "
            "(median 131).",
        ),
    ] = None,
    llm_seed: Annotated[
        int, typer.Option(help="Seed of the mock LLM's draws (a run repeats with the same seed).")
    ] = 0,
    seed_users: Annotated[int, typer.Option(min=1, help="Pre-seeded users.")] = 50,
    login_max: Annotated[
        int, typer.Option(min=1, help="Logins per IP and window (LibreChat: 7).")
    ] = 10_000,
    fault_proxy: Annotated[
        bool,
        typer.Option(
            help="Put Toxiproxy (built from the Go module proxy on first use) between the "
            "replicas and Redis / the mock LLM, for network chaos (proxies `redis`, `llm`)."
        ),
    ] = False,
    toxiproxy_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Toxiproxy's API port.")
    ] = 8474,
    gateway: Annotated[
        bool,
        typer.Option(
            "--gateway/--no-gateway",
            help="Put the AI gateway (LiteLLM's proxy, installed from PyPI on first use, with the "
            "production gateway's configuration) between the replicas and two mock LLMs, a "
            "primary and a fallback.",
        ),
    ] = True,
    gateway_port: Annotated[
        int, typer.Option(min=0, max=65535, help="The AI gateway's port.")
    ] = 4000,
    fallback_llm_port: Annotated[
        int, typer.Option(min=0, max=65535, help="The fallback mock LLM's port (with a gateway).")
    ] = 3096,
) -> None:
    """Start Redis, the mock LLMs, the AI gateway, the replicas and haproxy; print the URL and the
    users."""
    from librechat_sim.cluster import Cluster  # noqa: PLC0415 (redis: not for --help)

    from .gateway import for_command  # noqa: PLC0415 (pulumi, via components: not for --help)

    config = SimConfig(
        state_dir=Settings.from_env().state_dir,
        front_port=port,
        replicas=replicas,
        replica_base_port=base_port,
        redis_port=redis_port,
        llm_port=llm_port,
        llm=LLMConfig(ttft_ms, tokens_per_second, reply_tokens, llm_seed),
        seed_users=seed_users,
        login_max=login_max,
        toxiproxy_port=toxiproxy_port,
        regions=regions,
        redis_persistence=redis_persistence,
    )
    if fault_proxy:
        try:
            config = config.with_overrides(
                toxiproxy=str(toxiproxy.ensure(Settings.from_env().cache_dir))
            )
        except BuildError as exc:
            fail(exc.message, exc.hint)
    if gateway:
        ai = for_command(port=gateway_port, fallback_llm_port=fallback_llm_port)
        config = config.with_overrides(gateway=ai)
    try:
        info = Cluster(config).up()
    except SimError as exc:
        fail(exc.message, exc.hint)
    console.print(f"[green]simulator up[/] at [bold]{info.url}[/]", highlight=False)
    console.print(
        f"users: loadtest-0@example.com .. loadtest-{seed_users - 1}@example.com, "
        f"password {config.seed_password!r}; stop it with `librechat-ops sim down`",
        highlight=False,
    )


@sim_app.command()
def down() -> None:
    """Stop every process `sim up` started."""
    from librechat_sim.cluster import down as stop_all  # noqa: PLC0415 (see up)

    try:
        stopped = stop_all(Settings.from_env().state_dir)
    except SimError as exc:
        fail(exc.message, exc.hint)
    console.print(f"simulator down (stopped: {', '.join(stopped) or 'nothing was running'})")


@sim_app.command()
def status() -> None:
    """Show whether the simulator runs, its URL and its processes."""
    from librechat_sim.description import load  # noqa: PLC0415 (see up)
    from librechat_sim.processes import alive  # noqa: PLC0415 (see up)

    try:
        info = load(Settings.from_env().state_dir)
    except SimError as exc:
        fail(exc.message, exc.hint)
    console.print(f"simulator at [bold]{info.url}[/]", highlight=False)
    logs = {child.log.parent for child in info.children}
    for child in info.children:
        state = "[green]running[/]" if alive(child) else "[red]gone   [/]"
        # One line per process; the log's name alone when every log shares a directory.
        log = child.log.name if len(logs) == 1 else str(child.log)
        port = "" if child.port is None else str(child.port)
        line = f"  {child.name:12} pid {child.pid:<8} port {port:<6} {state}  {log}"
        console.print(line, highlight=False)
    if len(logs) == 1:
        console.print(f"logs in {logs.pop()}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``sim`` command group to the application."""
    app.add_typer(sim_app, name="sim")
