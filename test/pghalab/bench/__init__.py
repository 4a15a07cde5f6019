"""Benchmarks on the lab: `PYTHONPATH=test python -m pghalab.bench.<name>` (deploy, ops, typea,
resilience). They print figures and assert nothing."""
