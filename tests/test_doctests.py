"""The Examples in the docstrings run and give what they show (the metrics' values worked out by hand)."""
import doctest
import importlib

import pytest

MODULES = ["s5bench.metrics.signal", "s5bench.metrics.scene", "s5bench.metrics.accuracy", "s5bench.metrics.aggregate",
           "s5bench.metrics.separation", "s5bench.metrics.breakdown", "s5bench.metrics.folders",
           "s5bench.metrics.assignment", "s5bench.metrics.reading",
           "s5bench.systems.registry", "s5bench.systems.training.recipes", "s5bench.data_gen.config",
           "s5bench.data_gen.writer", "s5bench.systems.config_paths", "s5bench.systems.slots",
           "s5bench.systems.scaffold", "s5bench.submission.names", "s5bench.submission.package"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_hold(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} fail (details above)"
