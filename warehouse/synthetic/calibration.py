"""Rates of the synthetic state that the plausibility checks compare with published state rates.

A fresh demo ran four plausibility warnings after the check itself was corrected (measures/checks.py: quartiles
ordered for lower-is-better measures, Tukey fences instead of the bare interquartile range). Each was the
generator's rate, set by hand far from what Medicaid programs report (FFY 2021 Adult Core Set state quartiles,
measures/reference/core_set_quartiles.csv, data.medicaid.gov). The values below put each rate near the
published state median; the demo before -> after (20,000 members, seed 42, measurement year 2025):

* FUA (follow-up after an ED visit for alcohol/drug use; median 15.3 % at 7 days, 22.3 % at 30): the SUD
  follow-ups used the mental-health mix (70 % followed up, 46.8 % / 73.6 %). SUD follow-up is rarer.
* PQI15 (asthma admissions, ages 18-39; median 3.5 per 100,000 member months): 0.03 admissions per asthmatic
  adult a year gave 21.0; 0.005 gives about a sixth of that.
* OHD (>= 90 MME for 90+ days; median 7.2 %): 30 % of chronic opioid users were on the two high-dose products
  (23.5 %); 12 % now.
* SAA (antipsychotic adherence >= 80 %; median 63.6 %): four equally likely adherence bands gave 42.2 %; the
  higher bands are now more common.

After (same demo): FUA 22.6 % / 47.1 % (other SUD visits count as follow-up too), PQI15 0 of 66,541 member months
(about 2.5 per 100,000 expected: a handful of admissions at this size), OHD 8.4 %, SAA 73.7 %; "measures_job
2025: checks 48/48 passed".
"""
from __future__ import annotations

# Follow-up after an anchor (days after it): none, same day, 1-6, 7, 8, 9-30, 31-40.
FOLLOWUP_CATEGORY_P = {
    "mh": [0.30, 0.06, 0.30, 0.08, 0.07, 0.12, 0.07],      # FUH / FUM: unchanged, within the state range
    "sud": [0.64, 0.03, 0.11, 0.03, 0.03, 0.10, 0.06],     # FUA: ~17 % within 7 days, ~30 % within 30
}

PQI_ASTHMA_ADMISSIONS_PER_YEAR = 0.005      # per asthmatic adult aged 18-39

# chronic opioid products: hydrocodone 10/325 (40 MME/day), oxycodone 10, oxycodone 30 (180), morphine ER 60 (120)
CHRONIC_OPIOID_PRODUCT_P = [0.60, 0.28, 0.06, 0.06]

# antipsychotic monthly-fill adherence bands (SAA) and how common each is
SAA_ADHERENCE_BANDS = [0.97, 0.85, 0.6, 0.3]
SAA_BAND_P = [0.45, 0.30, 0.15, 0.10]
