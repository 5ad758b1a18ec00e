"""``python -m k8s_operator [--liveness URL] [--verbose]``: the operator as its Deployment runs it.

With ``LIBRECHAT_OPERATOR_LEADER_ELECTION=true`` (the Deployment's replicas) it first waits for the
Lease (:mod:`k8s_operator.leader`), answering the liveness probe meanwhile, and runs kopf only
while it leads; losing the Lease ends the process at once (exit code 3: Kubernetes restarts it
as a candidate), so it never writes alongside another leader. Without it, kopf runs at once, as
``kopf run -m k8s_operator.handlers --standalone --all-namespaces`` would.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import kopf

from . import handlers  # noqa: F401 - registers the handlers with kopf
from .kube import Kube, OperatorError
from .leader import Elector, LeaseSettings, acquire, keep
from .settings import LIVENESS_PORT, OperatorSettings

log = logging.getLogger("librechat.operator")

LOST_LEASE_EXIT = 3


class _Alive(BaseHTTPRequestHandler):
    """``GET <path>`` answers 200 while a candidate waits (kopf's endpoint is not up yet)."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"candidate": true}')

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the probe comes every few seconds."""


def _lost(reason: str) -> None:
    log.critical("lost the lead (%s): exiting so that no other leader writes alongside", reason)
    logging.shutdown()
    os._exit(LOST_LEASE_EXIT)


def _campaign(settings: OperatorSettings, liveness: str) -> None:
    """Wait for the Lease, then keep it in the background."""
    try:
        kube = Kube.connect(field_manager=f"{settings.field_manager}-lease")
    except OperatorError as exc:
        sys.exit(f"error: {exc}")
    elector = Elector(kube, LeaseSettings(settings.identity, settings.lease_namespace))
    url = urllib.parse.urlsplit(liveness)
    server = ThreadingHTTPServer((url.hostname or "0.0.0.0", url.port or LIVENESS_PORT), _Alive)
    threading.Thread(target=server.serve_forever, name="candidate-liveness", daemon=True).start()
    try:
        acquire(elector)
    finally:
        server.shutdown()
        server.server_close()
    keep(elector, _lost)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m k8s_operator", description=__doc__)
    parser.add_argument(
        "--liveness", default=f"http://0.0.0.0:{LIVENESS_PORT}/healthz", help="kopf's liveness URL"
    )
    parser.add_argument("--verbose", action="store_true", help="kopf's debug logging")
    args = parser.parse_args(argv)
    kopf.configure(verbose=args.verbose)
    settings = OperatorSettings.from_env()
    if settings.leader_election:
        _campaign(settings, args.liveness)
    kopf.run(standalone=True, clusterwide=True, liveness_endpoint=args.liveness)


if __name__ == "__main__":
    main()
