"""Tests of the calendar stores: one contract (contract.py) run against every backend."""
