"""Building the result tables, their provenance, plots and the web report from scored runs
(library code the runners call)."""
