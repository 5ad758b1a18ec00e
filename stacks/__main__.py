"""The Pulumi program (``pulumi up -s <env>``): read the stack's config, build the environment.

Thin on purpose: config.py (next to this file, first on ``sys.path`` when Pulumi or the offline
plan runs the program directory) reads and validates config; the components build.
"""

import config

from components.environment import build_environment

build_environment(config.load())
