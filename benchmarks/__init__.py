"""navenv benchmarks: metrics (pure functions), suites, harness, reports, performance benchmarks.

Kept free of imports so that `import benchmarks.metrics` does not pull in torch or MuJoCo.
"""
