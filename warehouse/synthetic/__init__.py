"""Synthetic multi-payer state generator (landing files for the demo, tests and benchmarks)."""
from warehouse.synthetic.generator import DEFAULT_FIRST_YEAR, DEFAULT_YEARS, bench, generate

__all__ = ["generate", "bench", "DEFAULT_FIRST_YEAR", "DEFAULT_YEARS"]
