"""Benchmark and evaluation drivers behind `edgeagent bench …` and `edgeagent eval …`."""
