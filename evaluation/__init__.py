"""Program evaluation shared by the pharmacy (MTM targeting) and savings (ICM) evaluations: difference-in-
differences with person-clustered intervals (`did`), propensity-score matching (`matching`), and the comparison-
group evaluation of what an ICM entity saved (`icm`)."""
