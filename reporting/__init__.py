"""What the harness builds from scored runs: tables, provenance, plots and the web report."""
