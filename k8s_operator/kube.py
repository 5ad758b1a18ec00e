"""The one module that talks to the Kubernetes API (besides kopf's own watching).

Server-side apply with the operator's field manager, reads, deletes, status and scale patches, and
Events, all as plain dicts. A status write that replaces a list other writers share (``conditions``)
carries the resourceVersion it was computed from, and a 409 conflict is then the caller's to read
again and redo; other 409s are retried at once with a short backoff (never after kopf's default
minute). What still fails is a :class:`KubeError` with the status code.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import signal
import socket
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import urllib3
from kubernetes import client, config
from tenacity import (
    before_sleep_log,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from .crds import API_VERSION

Obj = dict[str, Any]

REQUEST_TIMEOUT = (5.0, 60.0)
"""Seconds to connect, and to wait for an answer: a hung API server never blocks a thread."""

POOL_SIZE = 48
"""HTTP connections kept to the API server: at least kopf's handler threads, the children's lanes
and their watches, so they never queue."""

AUTH_SECONDS = 30.0
"""How long the credential headers are reused before being read again from the client's
configuration (at once after a 401): a token is valid far longer than that past its refresh."""


class OperatorError(Exception):
    """Base of the operator's errors."""


class KubeUnavailable(OperatorError):  # noqa: N818 - reads as a state
    """No cluster: no kubeconfig, or the API server does not answer."""


class KubeError(OperatorError):
    """The API server refused a request."""

    def __init__(self, status: int, method: str, path: str, body: str) -> None:
        self.status = status
        self.reason = ""
        try:
            self.reason = json.loads(body).get("message", "")
        except ValueError:
            self.reason = body[:300]
        super().__init__(f"{method} {path}: {status} {self.reason}")

    @property
    def storage_failure(self) -> bool:
        """The API server could not reach its storage (etcd), whatever the status code says: a
        Service created while etcd restarts is refused with 422 Invalid, "failed to allocate IP:
        rpc error: code = Unavailable". Worth retrying, never a verdict on the object."""
        return any(mark in self.reason for mark in _STORAGE_FAILURES)


_STORAGE_FAILURES = ("rpc error: code = Unavailable", "rpc error: code = DeadlineExceeded")
"""How the API server words an etcd client failure (gRPC status codes) in its messages."""


@dataclass(frozen=True)
class Kind:
    """Where one kind lives in the REST API."""

    prefix: str
    plural: str
    namespaced: bool = True


KINDS: dict[str, Kind] = {
    "Namespace": Kind("/api/v1", "namespaces", namespaced=False),
    "ServiceAccount": Kind("/api/v1", "serviceaccounts"),
    "ConfigMap": Kind("/api/v1", "configmaps"),
    "Secret": Kind("/api/v1", "secrets"),
    "Service": Kind("/api/v1", "services"),
    "Pod": Kind("/api/v1", "pods"),
    "Event": Kind("/api/v1", "events"),
    "Deployment": Kind("/apis/apps/v1", "deployments"),
    "PodDisruptionBudget": Kind("/apis/policy/v1", "poddisruptionbudgets"),
    "NetworkPolicy": Kind("/apis/networking.k8s.io/v1", "networkpolicies"),
    "CronJob": Kind("/apis/batch/v1", "cronjobs"),
    "Job": Kind("/apis/batch/v1", "jobs"),
    "StorageClass": Kind("/apis/storage.k8s.io/v1", "storageclasses", namespaced=False),
    "PriorityClass": Kind("/apis/scheduling.k8s.io/v1", "priorityclasses", namespaced=False),
    "Node": Kind("/api/v1", "nodes", namespaced=False),
    "Ingress": Kind("/apis/networking.k8s.io/v1", "ingresses"),
    "CustomResourceDefinition": Kind(
        "/apis/apiextensions.k8s.io/v1", "customresourcedefinitions", namespaced=False
    ),
    "RoleBinding": Kind("/apis/rbac.authorization.k8s.io/v1", "rolebindings"),
    "Role": Kind("/apis/rbac.authorization.k8s.io/v1", "roles"),
    "Lease": Kind("/apis/coordination.k8s.io/v1", "leases"),
    "ClusterRole": Kind("/apis/rbac.authorization.k8s.io/v1", "clusterroles", namespaced=False),
    "ClusterRoleBinding": Kind(
        "/apis/rbac.authorization.k8s.io/v1", "clusterrolebindings", namespaced=False
    ),
    "ValidatingAdmissionPolicy": Kind(
        "/apis/admissionregistration.k8s.io/v1", "validatingadmissionpolicies", namespaced=False
    ),
    "ValidatingAdmissionPolicyBinding": Kind(
        "/apis/admissionregistration.k8s.io/v1",
        "validatingadmissionpolicybindings",
        namespaced=False,
    ),
    "LibreChat": Kind(f"/apis/{API_VERSION}", "librechats"),
    "LibreChatService": Kind(f"/apis/{API_VERSION}", "librechatservices"),
    "PredictiveAutoscaler": Kind(f"/apis/{API_VERSION}", "predictiveautoscalers"),
    "ChaosSchedule": Kind(f"/apis/{API_VERSION}", "chaosschedules"),
}


def _incluster() -> client.Configuration | None:
    """The pod's service-account configuration, or None outside a cluster."""
    try:
        config.load_incluster_config()
    except config.ConfigException:
        return None
    configuration: client.Configuration = client.Configuration.get_default_copy()
    return configuration


def _is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, KubeError) and exc.status == 409


log = logging.getLogger("librechat.operator.kube")

_retry_conflicts = retry(
    retry=retry_if_exception(_is_conflict),
    stop=stop_after_attempt(6),
    wait=wait_exponential(multiplier=0.05, max=1.0),
    before_sleep=before_sleep_log(log, logging.WARNING),
    reraise=True,
)


@dataclass(frozen=True)
class CrashPoint:
    """Fault injection for tests: SIGKILL this process at its ``at``-th write request, before it
    is sent or after the API server answered it (applied, but the operator never learns), with a
    line naming the write appended to ``log`` first."""

    at: int
    after: bool
    log: str

    @classmethod
    def parse(cls, spec: str) -> CrashPoint | None:
        """``N,before|after,LOG`` (``LIBRECHAT_OPERATOR_CRASH_AT_WRITE``); empty: None."""
        if not spec:
            return None
        at, when, path = spec.split(",", 2)
        return cls(int(at), when == "after", path)


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Kube:
    """A client of one API server, as one field manager."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        field_manager: str,
        crash: CrashPoint | None = None,
    ) -> None:
        self.api_client = api_client
        self.field_manager = field_manager
        self._crash = crash
        self._write_requests = itertools.count(1)  # next() is atomic: handlers run on threads
        self.writes = 0
        """Write requests sent (applies, patches, deletes): for the steady-state benchmark."""
        self.conflicts = 0
        """409 answers received: another writer changed the object first."""
        self._auth: tuple[float, dict[str, str]] = (-AUTH_SECONDS, {})
        """The credential headers and when they were read (monotonic)."""

    @classmethod
    def connect(
        cls,
        *,
        field_manager: str,
        kubeconfig: str | None = None,
        crash: CrashPoint | None = None,
    ) -> Kube:
        """From ``kubeconfig`` if given, else the in-cluster service account, else $KUBECONFIG
        (or ``~/.kube/config``)."""
        configuration = None if kubeconfig else _incluster()
        if configuration is None:
            configuration = client.Configuration()
            path = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
            try:
                config.load_kube_config(config_file=path, client_configuration=configuration)
            except (config.ConfigException, OSError) as exc:
                raise KubeUnavailable(f"no usable kubeconfig at {path}: {exc}") from exc
        configuration.connection_pool_maxsize = POOL_SIZE
        return cls(
            client.ApiClient(configuration),
            field_manager=field_manager,
            crash=crash,
        )

    # ------------------------------------------------------------------ paths

    @staticmethod
    def path(kind: str, namespace: str | None = None, name: str | None = None) -> str:
        """The REST path of a kind, a namespace's collection, or one object."""
        k = KINDS[kind]
        path = k.prefix
        if k.namespaced and namespace:
            path += f"/namespaces/{namespace}"
        path += f"/{k.plural}"
        if name:
            path += f"/{name}"
        return path

    # ------------------------------------------------------------------ requests

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Obj:
        """One request; the decoded answer, or :class:`KubeError`."""
        if query:
            path = f"{path}?{urllib.parse.urlencode(query)}"
        configuration = self.api_client.configuration
        headers = self._headers(content_type)
        payload = None if body is None else orjson.dumps(body)
        crash = self._crash_point(method)
        if crash is not None and not crash.after:
            _die(crash, f"before {method} {path}")
        try:
            # The client's own connection pool (TLS, client certificates, proxies as the
            # kubeconfig says), but not its generated call_api, whose signature changed in
            # kubernetes 37: the same request on every version from 31 on.
            response = self.api_client.rest_client.pool_manager.request(
                method,
                configuration.host + path,
                body=payload,
                headers=headers,
                timeout=urllib3.Timeout(connect=REQUEST_TIMEOUT[0], read=REQUEST_TIMEOUT[1]),
                preload_content=True,
            )
        except urllib3.exceptions.HTTPError as exc:  # connection, TLS and timeout failures
            raise KubeUnavailable(f"{method} {path}: {exc}") from exc
        if crash is not None and crash.after:
            _die(crash, f"after {method} {path} answered {response.status}")
        data: bytes = response.data
        if response.status == 401:
            self._auth = (-AUTH_SECONDS, {})  # read the credentials again for the next request
        if not 200 <= response.status < 300:
            if response.status == 409:
                self.conflicts += 1
            raise KubeError(response.status, method, path, data.decode(errors="replace"))
        result: Obj = orjson.loads(data) if data else {}
        return result

    def _headers(self, content_type: str = "application/json") -> dict[str, str]:
        read_at, auth = self._auth
        now = time.monotonic()
        if now - read_at >= AUTH_SECONDS:
            # The token as the client's own requests carry it (refreshed by its hook when it
            # expires). The hook reloads the kubeconfig's settings each time, which was a
            # fortieth of the operator's CPU when done for every request.
            auth = {}
            for setting in self.api_client.configuration.auth_settings().values():
                if setting.get("in") == "header" and setting.get("value"):
                    auth[setting["key"]] = setting["value"]
            self._auth = (now, auth)
        return {"Accept": "application/json", "Content-Type": content_type, **auth}

    def watch(self, kind: str, query: Mapping[str, str], timeout: float) -> Iterator[Obj]:
        """The events of one watch of ``kind`` in every namespace (``query``: resourceVersion,
        labelSelector, timeoutSeconds, …), decoded, until the server ends it; no answer for
        ``timeout`` seconds ends it too. :class:`KubeError` when refused,
        :class:`KubeUnavailable` when the connection fails."""
        path = f"{self.path(kind)}?{urllib.parse.urlencode({**query, 'watch': 'true'})}"
        configuration = self.api_client.configuration
        try:
            response = self.api_client.rest_client.pool_manager.request(
                "GET",
                configuration.host + path,
                headers=self._headers(),
                timeout=urllib3.Timeout(connect=REQUEST_TIMEOUT[0], read=timeout),
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise KubeUnavailable(f"GET {path}: {exc}") from exc
        try:
            if not 200 <= response.status < 300:
                raise KubeError(response.status, "GET", path, response.data.decode())
            for line in response:  # one JSON event per line
                if line.strip():
                    event: Obj = orjson.loads(line)
                    yield event
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise KubeUnavailable(f"GET {path}: {exc}") from exc
        finally:
            response.close()

    def _crash_point(self, method: str) -> CrashPoint | None:
        """The crash point when this request is the one it names."""
        if self._crash is None or method not in WRITE_METHODS:
            return None
        return self._crash if next(self._write_requests) == self._crash.at else None

    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        """The object, or None when it does not exist."""
        try:
            return self.request("GET", self.path(kind, namespace, name))
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    def list(self, kind: str, namespace: str | None, selector: str | None = None) -> list[Obj]:
        """Objects of a kind in a namespace (all namespaces when None), by label selector."""
        query = {"labelSelector": selector} if selector else None
        items: list[Obj] = self.request("GET", self.path(kind, namespace), query=query)["items"]
        return items

    @_retry_conflicts
    def apply(self, obj: Obj, *, dry_run: bool = False) -> Obj:
        """Server-side apply ``obj`` as this field manager, taking over conflicting fields
        (``dry_run``: validated and admitted by the server, not stored)."""
        meta = obj["metadata"]
        query = {"fieldManager": self.field_manager, "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        else:
            self.writes += 1
        return self.request(
            "PATCH",
            self.path(obj["kind"], meta.get("namespace"), meta["name"]),
            obj,
            query=query,
            content_type="application/apply-patch+yaml",
        )

    def patch_status(
        self,
        kind: str,
        namespace: str,
        name: str,
        status: Obj,
        *,
        resource_version: str | None = None,
    ) -> Obj:
        """Merge ``status`` into the object's status subresource.

        A merge patch replaces a list whole. With ``resource_version`` the server applies the
        patch only while the object is still at that version and answers 409 otherwise, which is
        raised (not retried: the caller reads again and recomputes), so a ``conditions`` list
        written from a stale read never drops what another writer added meanwhile. Without it the
        server applies the patch to whatever is stored (it retries its own storage conflicts).
        """
        body: Obj = {"status": status}
        if resource_version is not None:
            body["metadata"] = {"resourceVersion": resource_version}
        self.writes += 1
        return self.request(
            "PATCH",
            self.path(kind, namespace, name) + "/status",
            body,
            content_type="application/merge-patch+json",
        )

    @_retry_conflicts
    def merge_patch(self, kind: str, namespace: str | None, name: str, patch: Obj) -> Obj:
        """Merge ``patch`` into the object (a JSON merge patch, for one field set outside the
        applied configuration, such as a rejected schedule's ``suspend``)."""
        self.writes += 1
        return self.request(
            "PATCH",
            self.path(kind, namespace, name),
            patch,
            content_type="application/merge-patch+json",
        )

    @_retry_conflicts
    def scale(self, kind: str, namespace: str, name: str, replicas: int) -> Obj:
        """Set replicas through the scale subresource."""
        self.writes += 1
        return self.request(
            "PATCH",
            self.path(kind, namespace, name) + "/scale",
            {"spec": {"replicas": replicas}},
            content_type="application/merge-patch+json",
        )

    def event(self, involved: Mapping[str, Any], *, type: str, reason: str, message: str) -> Obj:
        """Post a core/v1 Event about ``involved`` (a namespaced object's body), as
        ``kubectl describe`` shows them: ``type`` is ``Normal`` or ``Warning``, ``reason`` a
        CamelCase word. The body follows kopf's own events (``kopf._cogs.clients.events``); with
        ``eventTime`` set, the API server requires reportingComponent, reportingInstance, action
        and reason, and at most 1024 bytes of message (kubernetes ``pkg/apis/core/validation/
        events.go``)."""
        meta = involved["metadata"]
        now = datetime.now(UTC)
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": involved["apiVersion"],
                "kind": involved["kind"],
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta["uid"],
            },
            "type": type,
            "reason": reason,
            "message": message.encode()[:1024].decode(errors="ignore"),
            "action": reason,
            "source": {"component": self.field_manager},
            "reportingComponent": self.field_manager,
            "reportingInstance": socket.gethostname()[:128],
            "firstTimestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "lastTimestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "count": 1,
        }
        self.writes += 1
        return self.request("POST", self.path("Event", meta["namespace"]), event)

    def delete(self, kind: str, namespace: str | None, name: str) -> bool:
        """Delete (foreground not needed: owner references cascade); False when already gone."""
        self.writes += 1
        try:
            self.request("DELETE", self.path(kind, namespace, name))
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise
        return True


def _die(crash: CrashPoint, what: str) -> None:
    """Record which write this is, then SIGKILL this process (no clean-up of any kind)."""
    with open(crash.log, "a", encoding="utf-8") as out:
        out.write(f"write {crash.at}: {what}\n")
    os.kill(os.getpid(), signal.SIGKILL)
