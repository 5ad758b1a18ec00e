"""``librechat-ops verify``: one SLO verdict for load and faults together.

``spec`` says what to run, ``faults`` runs the chaos experiments with ``chaos run``, ``scorecard``
judges the run (pure arithmetic over what was measured), ``report`` writes the scorecard with its
plots, and ``run`` ties them together around a Locust run against the simulator.
"""
