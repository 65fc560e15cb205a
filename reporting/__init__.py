"""Building the result tables, their provenance, plots and the web report (library code the runners call)."""
