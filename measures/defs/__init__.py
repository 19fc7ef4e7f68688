"""Measure definition modules (each exports MEASURES: list[MeasureDefinition])."""
