"""AWS faults chaostoolkit-aws lacks: Route 53 Application Recovery Controller routing controls.

chaosaws 0.35 has Route 53 probes (hosted zone, health check status, DNS answer) but nothing that
flips an ARC routing control, which is how a region is taken out of (and put back into) a
Route 53 failover in the cloud deployment.
"""
