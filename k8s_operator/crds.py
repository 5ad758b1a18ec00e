"""The four CustomResourceDefinitions, as pure data (rendered to ``k8s_operator/deploy/crds.yaml``).

Structural schemas with defaults, CEL rules for what a schema alone cannot say, printer columns,
and status subresources; ``LibreChatService`` also has a scale subresource, so the autoscaler (and
``kubectl scale``) set replicas through it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from slos import definition, rules

from . import images
from .inventory import BY_NAME, LIBRECHAT_IMAGE

GROUP = "librechat.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

Schema = dict[str, Any]

_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_SEMVER = r"^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$"
_QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"
_CRON = r"^(@(hourly|daily|weekly|monthly|yearly)|(\S+\s+){4}\S+)$"

ADMIN_ONLY_EXPERIMENTS = ("node-loss",)
"""Experiments that need cluster-wide rights (nodes). A schedule's runs get the chaos rights only
in their own namespace (a RoleBinding); granting these would take a ClusterRoleBinding made on
behalf of anyone who can create a ChaosSchedule, an escalation. The CRD rejects them and the
operator reports them (``guard: rejected``); administrators run them with ``chaos run``."""

GUARD_WINDOW = "1h"
"""The burn-rate window a ChaosSchedule's SLO guard reads by default
(``slo:burn_rate:ratio_rate1h``, the long window of the fastest page)."""

GUARD_MAX_AGE_S = 120
"""Default age limit, seconds, of the burn rate the guard reads: four evaluations of the generated
rules at their 30 s interval (:func:`slos.rules.generate`); older, the rules are no longer
evaluated and the reading is stale."""


@cache
def guard_windows() -> tuple[str, ...]:
    """The windows the generated burn-rate rules are recorded over (unscaled): every alert window
    and each shipped environment's SLO time window, shortest first."""
    found: dict[str, int] = {}
    for slos in definition.load().environments.values():
        for window in (*rules.windows(slos), rules.period_window(slos)):
            found[window] = definition.duration_s(window)
    return tuple(sorted(found, key=found.__getitem__))


def _int(minimum: int | None = None, maximum: int | None = None, **extra: Any) -> Schema:
    schema: Schema = {"type": "integer", **extra}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def _str(**extra: Any) -> Schema:
    return {"type": "string", **extra}


def _obj(
    props: dict[str, Schema],
    *,
    required: list[str] | None = None,
    validations: list[dict[str, str]] | None = None,
    **extra: Any,
) -> Schema:
    schema: Schema = {"type": "object", "properties": props, **extra}
    if required:
        schema["required"] = required
    if validations:
        schema["x-kubernetes-validations"] = validations
    return schema


def _name_ref(description: str) -> Schema:
    """A reference by name to an object in the resource's namespace (a Secret, a ConfigMap)."""
    return _obj({"name": _str(pattern=_NAME)}, required=["name"], description=description)


def _image_ref() -> Schema:
    """An image reference pinned to a tag other than ``latest`` or to a digest."""
    return _str(
        maxLength=512,
        pattern=r"^[^\s:@]+(:[0-9]+)?(/[^\s:@]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
        r"(@sha256:[0-9a-f]{64})?$",
        **{
            "x-kubernetes-validations": [
                {
                    "rule": "self.contains('@sha256:') || "
                    "(self.split('/')[self.split('/').size() - 1].contains(':') && "
                    "!self.endsWith(':latest'))",
                    "message": "an image must be pinned: a release tag (not latest) or a digest",
                }
            ]
        },
    )


def _secret_ref(description: str) -> Schema:
    return _obj(
        {"name": _str(pattern=_NAME, maxLength=253), "key": _str(minLength=1, maxLength=253)},
        required=["name", "key"],
        description=description,
    )


_LABEL_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
"""Kubernetes' qualified name (a label key): an optional DNS-subdomain prefix and a name."""

_NODE_SELECTOR: Schema = {
    "type": "object",
    "additionalProperties": _str(
        maxLength=63, pattern=r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
    ),
    "maxProperties": 20,
    "description": "Node labels the pods must carry (a node pool); a PredictiveAutoscaler's "
    "headroom pods for this service use the same.",
    "x-kubernetes-validations": [
        {
            "rule": f"self.all(k, size(k) <= 316 && k.matches('{_LABEL_KEY}'))",
            "message": "nodeSelector keys must be label keys: an optional DNS prefix and '/', "
            "then at most 63 letters, digits, '-', '_' and '.'",
        }
    ],
}

_TOLERATIONS: Schema = {
    "type": "array",
    "maxItems": 20,
    "items": _obj(
        {
            "key": _str(maxLength=316),
            "operator": _str(enum=["Equal", "Exists"], default="Equal"),
            "value": _str(maxLength=63),
            "effect": _str(enum=["NoSchedule", "PreferNoSchedule", "NoExecute"]),
            "tolerationSeconds": {"type": "integer", "format": "int64"},
        },
        # Kubernetes' own rules for a toleration (validateTolerations), refused here rather
        # than by the Deployment the operator would write later.
        validations=[
            {
                "rule": "self.operator != 'Exists' || !has(self.value) || self.value == ''",
                "message": "a toleration with operator Exists takes no value",
            },
            {
                "rule": "has(self.key) && self.key != '' || self.operator == 'Exists'",
                "message": "a toleration without a key must use operator Exists",
            },
            {
                "rule": "!has(self.tolerationSeconds) || "
                "(has(self.effect) && self.effect == 'NoExecute')",
                "message": "tolerationSeconds applies to the NoExecute effect only",
            },
            {
                "rule": f"!has(self.key) || self.key == '' || self.key.matches('{_LABEL_KEY}')",
                "message": "a toleration's key must be a label key",
            },
        ],
    ),
    "description": "Taints of the nodes the pods may run on (the same list as a pod's "
    "tolerations); a PredictiveAutoscaler's headroom pods for this service use the same.",
}

_CONDITIONS: Schema = {
    "type": "array",
    "x-kubernetes-list-type": "map",
    "x-kubernetes-list-map-keys": ["type"],
    "items": _obj(
        {
            "type": _str(),
            "status": _str(enum=["True", "False", "Unknown"]),
            "reason": _str(),
            "message": _str(),
            "lastTransitionTime": _str(format="date-time"),
            "observedGeneration": _int(0),
        },
        required=["type", "status"],
    ),
}

_RESOURCES: Schema = _obj(
    {
        part: _obj(
            {"cpu": _str(pattern=_QUANTITY), "memory": _str(pattern=_QUANTITY)},
        )
        for part in ("requests", "limits")
    },
    default={"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
)

_SLO: Schema = _obj(
    {
        "p99LatencyMs": _int(1, 600_000, description="Latency objective at the 99th percentile."),
        "availability": _str(
            pattern=r"^(9[0-9](\.[0-9]{1,4})?|100)$", description='Availability in percent, "99.9".'
        ),
    },
    default={"p99LatencyMs": 100, "availability": "99.9"},
)


def _service_spec() -> Schema:
    return _obj(
        {
            "image": _str(minLength=1, maxLength=512),
            "port": _int(1, 65535, default=8080),
            "tier": _int(1, 4, default=2),
            "minReplicas": _int(0, 10_000, default=1),
            "maxReplicas": _int(1, 10_000, default=10),
            "replicas": _int(
                0, 10_000, description="Desired replicas; set via the scale subresource."
            ),
            "resources": _RESOURCES,
            "probe": _obj(
                {
                    "path": _str(pattern=r"^/", default="/health"),
                    "periodSeconds": _int(1, 300, default=10),
                },
                default={"path": "/health", "periodSeconds": 10},
            ),
            "slo": _SLO,
            "args": {
                "type": "array",
                "maxItems": 50,
                "items": _str(maxLength=1024),
                "description": "Arguments after the image's entrypoint.",
            },
            "writablePaths": {
                "type": "array",
                "maxItems": 20,
                "x-kubernetes-list-type": "set",
                "items": _str(pattern=r"^/[A-Za-z0-9._/-]*$", maxLength=256),
                "description": "Directories the process writes besides /tmp, each an empty "
                "directory (the root filesystem is read-only).",
            },
            "configMaps": {
                "type": "array",
                "maxItems": 10,
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["mountPath"],
                "items": _obj(
                    {
                        "name": _str(pattern=_NAME),
                        "mountPath": _str(pattern=r"^/[A-Za-z0-9._/-]*$", maxLength=256),
                    },
                    required=["name", "mountPath"],
                ),
                "description": "ConfigMaps mounted read-only as directories of files.",
            },
            "config": {
                "type": "object",
                "additionalProperties": _str(),
                "maxProperties": 200,
                "description": "Environment entries, kept in a ConfigMap; a change rolls the pods.",
                # Kubernetes' own rule for ConfigMap keys (IsConfigMapKey): refused here, not by
                # the ConfigMap the operator would write later.
                "x-kubernetes-validations": [
                    {
                        "rule": "self.all(k, size(k) <= 253 && k.matches('^[-._a-zA-Z0-9]+$'))",
                        "message": "config keys must be valid ConfigMap keys: at most 253 "
                        "characters of letters, digits, '-', '_' and '.'",
                    },
                    {
                        "rule": "self.all(k, k != '.' && k != '..')",
                        "message": "config keys must not be '.' or '..'",
                    },
                ],
            },
            "envFromSecret": {
                "type": "string",
                "pattern": _NAME,
                "description": "A Secret whose keys become environment entries (never read by "
                "the operator).",
            },
            "secretEnv": {
                "type": "array",
                "maxItems": 50,
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": _obj(
                    {
                        "name": _str(pattern=r"^[A-Z_][A-Z0-9_]*$"),
                        "secretRef": _secret_ref("Where the value comes from."),
                    },
                    required=["name", "secretRef"],
                ),
                "description": "Environment entries taken from single Secret keys.",
            },
            "public": {
                "type": "boolean",
                "default": False,
                "description": "Accept traffic from outside the platform (the front door).",
            },
            "platform": _str(pattern=_NAME, description="The LibreChat resource this belongs to."),
            "egress": {
                "type": "array",
                "maxItems": 20,
                "items": _obj(
                    {
                        "port": _int(1, 65535),
                        "namespace": _str(
                            pattern=_NAME,
                            description="Pods of this namespace; absent: any address outside "
                            "the cluster (0.0.0.0/0).",
                        ),
                    },
                    required=["port"],
                ),
                "description": "Connections the pods may open besides DNS and the platform's "
                "pods: a TCP port, in a namespace or outside the cluster.",
            },
            "serviceAccountAnnotations": {
                "type": "object",
                "additionalProperties": _str(maxLength=2048),
                "maxProperties": 10,
                "description": "Annotations of the pods' ServiceAccount, e.g. "
                "eks.amazonaws.com/role-arn (IRSA).",
            },
            "nodeSelector": _NODE_SELECTOR,
            "tolerations": _TOLERATIONS,
        },
        required=["image"],
        **{
            "x-kubernetes-validations": [
                {
                    "rule": "self.minReplicas <= self.maxReplicas",
                    "message": "minReplicas must not exceed maxReplicas",
                },
            ]
        },
    )


def _status(extra: dict[str, Schema] | None = None) -> Schema:
    schema = _obj({"observedGeneration": _int(0), "conditions": _CONDITIONS, **(extra or {})})
    schema["x-kubernetes-preserve-unknown-fields"] = True
    return schema


def _librechat_spec() -> Schema:
    service_override = _obj(
        {
            "name": _str(enum=sorted(BY_NAME)),
            "enabled": {"type": "boolean", "default": True},
            "image": _str(minLength=1),
            "minReplicas": _int(0, 10_000),
            "maxReplicas": _int(1, 10_000),
        },
        required=["name"],
        **{
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.minReplicas) || !has(self.maxReplicas) || "
                    "self.minReplicas <= self.maxReplicas",
                    "message": "minReplicas must not exceed maxReplicas",
                }
            ]
        },
    )
    return _obj(
        {
            "version": _str(pattern=_SEMVER, description="LibreChat release, e.g. v0.8.1."),
            "image": _str(default=LIBRECHAT_IMAGE, description="Image repository; tag = version."),
            "images": _obj(
                {name: _image_ref() for name in sorted(images.IMAGES)},
                description="Rows of the operator's versions table replaced: name -> "
                "repository:tag (or @sha256 digest), e.g. a mirror in the team's registry.",
            ),
            "region": _str(pattern=_NAME, default="local"),
            "api": _obj(
                {
                    "minReplicas": _int(1, 10_000, default=2),
                    "maxReplicas": _int(1, 10_000, default=20),
                },
                default={"minReplicas": 2, "maxReplicas": 20},
            ),
            "redis": _obj(
                {
                    "urlSecretRef": _secret_ref("Secret key holding the Redis URL."),
                    "keyPrefix": _str(pattern=r"^[A-Za-z0-9:_-]{1,64}$"),
                    "cluster": {
                        "type": "boolean",
                        "default": False,
                        "description": "Redis in cluster mode (ElastiCache): USE_REDIS_CLUSTER.",
                    },
                    "alternativeDnsLookup": {
                        "type": "boolean",
                        "default": False,
                        "description": "ElastiCache over TLS: ioredis must connect to the "
                        "cluster's host names, not its addresses "
                        "(REDIS_USE_ALTERNATIVE_DNS_LOOKUP).",
                    },
                },
                required=["urlSecretRef"],
            ),
            "gateway": _obj(
                {
                    "keysSecretRef": _name_ref(
                        "A Secret whose keys are the providers' API keys, named as "
                        "the gateway's config.yaml reads them (os.environ/<NAME>)."
                    )
                },
                description="The AI gateway (the ai-gateway service, LiteLLM).",
            ),
            "rag": _obj(
                {
                    "databaseSecretRef": _name_ref(
                        "A Secret with DB_HOST, DB_PORT, POSTGRES_DB, POSTGRES_USER "
                        "and POSTGRES_PASSWORD: the RAG API's database and its own role."
                    )
                },
                description="LibreChat's RAG API (the ai-orchestrator service).",
            ),
            "storesNamespace": _str(
                pattern=_NAME,
                description="Where the in-cluster stores run (Meilisearch; on a laptop also "
                "MongoDB, Redis and PostgreSQL): the services may connect there.",
            ),
            "configRef": _name_ref(
                "A ConfigMap whose key librechat.yaml is LibreChat's configuration "
                "file (mounted read-only; CONFIG_PATH points at it)."
            ),
            "files": _obj(
                {
                    "s3": _obj(
                        {
                            "bucket": _str(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
                            "region": _str(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$"),
                            "roleArn": _str(
                                pattern=r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$",
                                description="The IAM role LibreChat's pods assume (IRSA).",
                            ),
                        },
                        required=["bucket", "region"],
                    )
                },
                description="Where LibreChat keeps files (absent: its local folder).",
            ),
            "mongodb": _obj(
                {
                    "uriSecretRef": _secret_ref("Secret key holding the MongoDB URI."),
                    "caRef": _name_ref(
                        "A ConfigMap whose key ca.pem holds the certificate "
                        "authorities of MongoDB's TLS (DocumentDB's); mounted where the URI's "
                        "tlsCAFile points."
                    ),
                }
            ),
            "meilisearch": _obj(
                {"urlSecretRef": _secret_ref("Secret key holding the Meilisearch URL.")}
            ),
            "secretsRef": _name_ref(
                "Secret with CREDS_KEY, CREDS_IV, JWT_SECRET, JWT_REFRESH_SECRET, "
                "MEILI_MASTER_KEY (identical in every replica and region)."
            ),
            "services": {
                "type": "array",
                "maxItems": len(BY_NAME),
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["name"],
                "items": service_override,
                "description": "Inventory services to run, with overrides; absent = all of them "
                "with their inventory defaults.",
            },
        },
        required=["version", "secretsRef"],
        **{
            "x-kubernetes-validations": [
                {
                    "rule": "self.api.minReplicas <= self.api.maxReplicas",
                    "message": "api.minReplicas must not exceed api.maxReplicas",
                },
                {
                    "rule": "self.api.maxReplicas <= 1 || has(self.redis)",
                    "message": "LibreChat needs Redis to run more than one replica: set spec.redis",
                },
            ]
        },
    )


def _autoscaler_spec() -> Schema:
    return _obj(
        {
            "targetRef": _obj({"name": _str(pattern=_NAME)}, required=["name"]),
            "query": _str(minLength=1, description="PromQL giving the service's request rate."),
            "podCapacity": {
                "type": "number",
                "exclusiveMinimum": True,
                "minimum": 0,
                "description": "Requests per second one pod serves within its SLO.",
            },
            "horizonMinutes": _int(1, 1440, default=30),
            "startupDelaySeconds": _int(0, 3600, default=120),
            "intervalSeconds": _int(5, 3600, default=60),
            "mode": _str(enum=["auto", "observe"], default="auto"),
            "shortfallBudget": {
                "type": "number",
                "exclusiveMinimum": True,
                "minimum": 0,
                "maximum": 0.5,
                "exclusiveMaximum": True,
                "default": 0.01,
                "description": "Share of intervals allowed to be under-provisioned (e.g. 0.001); "
                "the quantile level adapts so that the realised share keeps it.",
            },
            "events": {
                "type": "array",
                "maxItems": 1000,
                "items": _obj(
                    {
                        "name": _str(maxLength=253),
                        "start": _str(format="date-time"),
                        "end": _str(format="date-time"),
                        "rate": {
                            "type": "number",
                            "exclusiveMinimum": True,
                            "minimum": 0,
                            "description": "Expected demand while it runs (the query's unit).",
                        },
                        "multiplier": {
                            "type": "number",
                            "exclusiveMinimum": True,
                            "minimum": 0,
                            "description": "Expected demand as a multiple of the seasonal base.",
                        },
                    },
                    required=["name", "start", "end"],
                    **{
                        "x-kubernetes-validations": [
                            {
                                "rule": "timestamp(self.end) > timestamp(self.start)",
                                "message": "an event must end after it starts",
                            }
                        ]
                    },
                ),
                "description": "Known events (launches, matches, campaigns; RFC 3339 times). "
                "Windows that overlap one are calibrated apart, learnt from earlier events; with "
                "a rate or multiplier the autoscaler also covers that much while it runs.",
            },
            "headroom": _obj(
                {
                    "enabled": {"type": "boolean", "default": False},
                    "minPods": _int(
                        0,
                        10_000,
                        default=0,
                        description="Pause pods kept at least, whatever the forecast.",
                    ),
                },
                description="Low-priority pause pods sized by the horizon forecast beyond the "
                "replicas now: nodes are warm before the service's pods need them, and the "
                "scheduler preempts the headroom when they arrive.",
            ),
            "behavior": _obj(
                {
                    "scaleDownStabilizationSeconds": _int(0, 86_400, default=300),
                    "badDataHoldSeconds": _int(
                        1,
                        86_400,
                        default=600,
                        description="How long bad or missing metrics hold the replicas; then "
                        "the reactive floor of the last good value decides.",
                    ),
                },
                default={"scaleDownStabilizationSeconds": 300, "badDataHoldSeconds": 600},
            ),
        },
        required=["targetRef", "query", "podCapacity"],
    )


def _chaos_spec() -> Schema:
    return _obj(
        {
            "schedule": _str(pattern=_CRON, description='Cron schedule, e.g. "0 */6 * * *".'),
            "experiment": _str(
                pattern=_NAME, description="Experiment name under chaos/experiments."
            ),
            "image": _str(minLength=1, description="Image with the toolkit and chaostoolkit."),
            "targetSelector": _obj(
                {"matchLabels": {"type": "object", "additionalProperties": _str()}},
                required=["matchLabels"],
            ),
            "suspend": {"type": "boolean", "default": False},
            "sloGuard": _obj(
                {
                    "maxBurnRate": {
                        "type": "number",
                        "minimum": 0,
                        "default": 1.0,
                        "description": "Highest burn rate runs are allowed at (1.0 spends the "
                        "error budget exactly over the SLO window).",
                    },
                    "window": _str(
                        enum=list(guard_windows()),
                        default=GUARD_WINDOW,
                        description="The generated burn-rate rule read: "
                        "slo:burn_rate:ratio_rate<window>.",
                    ),
                    "journey": _str(
                        enum=list(definition.JOURNEYS),
                        description="Read this journey's burn rate; absent: the worst of all.",
                    ),
                    "maxAgeSeconds": _int(
                        10,
                        86_400,
                        default=GUARD_MAX_AGE_S,
                        description="An older burn rate is stale: runs are skipped.",
                    ),
                },
                description="Skip runs while the generated burn-rate rule of the operator's SLO "
                "environment exceeds maxBurnRate, and while it cannot be read, has no data, is "
                "not a number or is stale.",
            ),
        },
        required=["schedule", "experiment", "image", "targetSelector"],
        **{
            "x-kubernetes-validations": [
                {
                    "rule": "!(self.experiment in ["
                    + ", ".join(f"'{name}'" for name in ADMIN_ONLY_EXPERIMENTS)
                    + "])",
                    "message": "this experiment needs cluster-wide rights (nodes): an "
                    "administrator runs it with `chaos run`, a ChaosSchedule cannot",
                    "fieldPath": ".experiment",
                }
            ]
        },
    )


def _crd(
    kind: str,
    plural: str,
    short: str,
    spec: Schema,
    columns: list[dict[str, str]],
    *,
    scale: bool = False,
    status_extra: dict[str, Schema] | None = None,
) -> dict[str, Any]:
    subresources: dict[str, Any] = {"status": {}}
    if scale:
        subresources["scale"] = {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        }
    age = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": [short],
                "categories": ["librechat"],
            },
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": subresources,
                    "additionalPrinterColumns": [*columns, age],
                    "schema": {
                        "openAPIV3Schema": _obj(
                            {"spec": spec, "status": _status(status_extra)},
                            required=["spec"],
                        )
                    },
                }
            ],
        },
    }


def _ready_column() -> dict[str, str]:
    return {
        "name": "Ready",
        "type": "string",
        "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
    }


def definitions() -> list[dict[str, Any]]:
    """The four CRDs, in the order they are applied."""
    return [
        _crd(
            "LibreChat",
            "librechats",
            "lc",
            _librechat_spec(),
            [
                {"name": "Version", "type": "string", "jsonPath": ".spec.version"},
                {"name": "Region", "type": "string", "jsonPath": ".spec.region"},
                {"name": "Services", "type": "integer", "jsonPath": ".status.services"},
                _ready_column(),
            ],
        ),
        _crd(
            "LibreChatService",
            "librechatservices",
            "lcs",
            _service_spec(),
            [
                {"name": "Tier", "type": "integer", "jsonPath": ".spec.tier"},
                {"name": "Desired", "type": "integer", "jsonPath": ".spec.replicas"},
                {"name": "Replicas", "type": "integer", "jsonPath": ".status.replicas"},
                {"name": "Available", "type": "integer", "jsonPath": ".status.availableReplicas"},
                _ready_column(),
            ],
            scale=True,
            status_extra={
                "replicas": _int(0),
                "availableReplicas": _int(0),
                "selector": _str(),
            },
        ),
        _crd(
            "PredictiveAutoscaler",
            "predictiveautoscalers",
            "pas",
            _autoscaler_spec(),
            [
                {"name": "Target", "type": "string", "jsonPath": ".spec.targetRef.name"},
                {"name": "Mode", "type": "string", "jsonPath": ".spec.mode"},
                {
                    "name": "Recommended",
                    "type": "integer",
                    "jsonPath": ".status.recommendedReplicas",
                },
                {"name": "Reason", "type": "string", "jsonPath": ".status.reason"},
            ],
        ),
        _crd(
            "ChaosSchedule",
            "chaosschedules",
            "cs",
            _chaos_spec(),
            [
                {"name": "Schedule", "type": "string", "jsonPath": ".spec.schedule"},
                {"name": "Experiment", "type": "string", "jsonPath": ".spec.experiment"},
                {"name": "Guard", "type": "string", "jsonPath": ".status.guard"},
            ],
        ),
    ]
