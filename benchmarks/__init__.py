"""Speed benchmarks for audiospec (DESIGN.md section 7): ratios against peers, same process, same inputs.

Run ``python -m benchmarks`` from the repository root; see ``benchmarks/README.md``.
"""
