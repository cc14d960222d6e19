"""Latency harness: one measuring method across runtimes, on the host and on Android."""
