"""The benchmarks' library code: what the `bench-*` runners and `learnability` measure, and the GPU
benchmark's parts (`benchmarks/gpu/`). Nothing outside the runners and the tests imports it."""
