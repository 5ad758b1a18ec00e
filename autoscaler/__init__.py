"""The predictive autoscaler: forecasting and capacity decisions, pure numpy/pandas/statsmodels.

What belongs here: forecasters with the statsmodels shape, the capacity policy and its safety rules,
metric sources, and the backtest that compares the policy with Kubernetes' HPA and an oracle. No
kopf, Pulumi, Locust, chaostoolkit or Kubernetes client: the operator calls in, never the reverse.
"""
