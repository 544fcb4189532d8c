"""Throughput and latency benchmark of the portal, run as ``python -m bench`` (or ``make bench``).

Each scenario serves an app with gunicorn on 127.0.0.1, drives it with a load generator (wrk when it is
installed, otherwise a Python one) and reports requests per second and p50/p99 latency. A new scenario is
one small function added to ``bench.scenarios.SCENARIOS``.
"""
