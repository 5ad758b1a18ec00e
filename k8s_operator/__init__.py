"""The kopf operator for LibreChat custom resources.

What belongs here: the CRDs and deploy manifests, the handlers, the pure builders of child objects,
and the one module that talks to the Kubernetes API. It may call the autoscaler library; it never
imports Locust, chaostoolkit or Pulumi (named ``k8s_operator`` because the standard library's
``operator`` is loaded at interpreter start and would shadow ``operator``).
"""
