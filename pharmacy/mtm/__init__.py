"""Medication therapy management: targeting presets and eligibility, the service record and CMR rate, evaluation."""
