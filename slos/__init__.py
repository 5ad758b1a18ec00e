"""SLOs as code: the one definition of every objective, and what is generated from it.

What belongs here: the definition file and its one reader (:mod:`slos.definition`), the one
evaluator of a run (:mod:`slos.evaluate`), the metrics each journey's indicator is measured by
(:mod:`slos.sli`), and the generators of Prometheus rules (:mod:`slos.rules`), their promtool
tests (:mod:`slos.promtool`, written and checked by :mod:`slos.files`) and Grafana dashboards
(:mod:`slos.dashboards`). It imports no product area: load tests, verify, chaos, the operator
and the Pulumi components all read their targets from here.
"""
