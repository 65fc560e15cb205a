"""`s5bench bench-gpu` (runners/bench_gpu.py): the paper-size components on a GPU against the CPU,
their training and inference cost there, and the CPU-size USS trained for a wall budget. Each
part writes its CSV as soon as it is done; `report.py` turns whatever is there into Markdown."""
