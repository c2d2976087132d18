"""Local news outlets on loopback, built from real pages, for tests, benchmarks and the demo.

Each outlet gets its own 127.0.0.x address, so domain scoping and per-host politeness are exercised
for real while no request ever leaves the machine.
"""
