"""The challenge submission: the official package (2026: a folder with eval_out/ and two JSON files,
zipped; 2025: the zipped eval_out/), written from a run and checked as the organisers check it.

`names` (folder and file names), `results` (the two JSON files' content), `package` (writing the
folder and the zip), `contents` (reading a zip or a folder), `checks` (what `s5bench validate` finds).
"""
