"""Warehouse side of the shared-savings calculator: attribution, cost of care, risk, benchmark inputs, settlement.

Heavy work runs as set-based SQL in the warehouse (DuckDB or PostgreSQL); Python only handles the small
per-entity aggregates (benchmarks and settlement arithmetic), in exact `Decimal`: money is rounded half-up to cents
only where savings/README.md ("Warehouse path rounding") says.
"""
from savings.population.attribution import attribute, check_attribution
from savings.population.benchmark import build_inputs, compute_benchmarks, load_inputs
from savings.population.config import PopulationConfig
from savings.population.cost import build_cost
from savings.population.risk import load_custom_model, load_reference, score_year
from savings.population.run import (
    check_settlement, prepare_year, settle_amounts, settle_from_inputs, settle_year,
)

__all__ = ["PopulationConfig", "attribute", "check_attribution", "build_cost", "score_year", "load_reference",
           "load_custom_model", "build_inputs", "load_inputs", "compute_benchmarks", "prepare_year",
           "settle_amounts", "settle_from_inputs", "settle_year", "check_settlement"]
