"""Faults and probes for the local LibreChat API simulator's processes.

The simulator (``librechat-ops sim up``) records its processes in ``<state>/sim/cluster.json``;
this domain reads that file (it does not import the load tests), signals the processes, starts
them again with the command recorded there, and talks to the simulator over HTTP like a browser.
"""
