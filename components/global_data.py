"""GlobalDatabases: the DocumentDB global cluster and the Aurora PostgreSQL Global Database.

What belongs here: the two global clusters that every region's DataStores joins. They are created
through the primary region's provider; regional members are in :mod:`components.datastores`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .common import child_opts
from .datastores import AURORA_ENGINE_VERSION, DOCDB_ENGINE_VERSION


@dataclass(frozen=True)
class GlobalDatabasesArgs:
    """Inputs of :class:`GlobalDatabases`."""

    prefix: str
    """Name prefix, e.g. ``lc-prod``."""
    deletion_protection: bool
    """Protect both global clusters from deletion."""
    tags: dict[str, str]
    """Tags (where the resource type takes them)."""


class GlobalDatabases(pulumi.ComponentResource):
    """The two global clusters (encrypted storage) that give every region a local replica."""

    docdb_id: pulumi.Output[str]
    aurora_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: GlobalDatabasesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("librechat:global_data:GlobalDatabases", name, None, opts)
        docdb = aws.docdb.GlobalCluster(
            f"{name}-docdb",
            global_cluster_identifier=f"{args.prefix}-docdb",
            engine="docdb",
            engine_version=DOCDB_ENGINE_VERSION,
            storage_encrypted=True,
            deletion_protection=args.deletion_protection,
            opts=child_opts(self, protect=args.deletion_protection),
        )
        aurora = aws.rds.GlobalCluster(
            f"{name}-aurora",
            global_cluster_identifier=f"{args.prefix}-aurora",
            engine="aurora-postgresql",
            engine_version=AURORA_ENGINE_VERSION,
            database_name="rag",
            storage_encrypted=True,
            deletion_protection=args.deletion_protection,
            tags=args.tags,
            opts=child_opts(self, protect=args.deletion_protection),
        )
        self.docdb_id = docdb.id
        self.aurora_id = aurora.id
        self.register_outputs({"docdb_id": docdb.id, "aurora_id": aurora.id})
