"""``python -m librechat_ops`` runs the command line."""

from librechat_ops.cli import main

main()
