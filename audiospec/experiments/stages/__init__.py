"""The stages of a run, one module each; every module registers its stage (:mod:`audiospec.experiments.stage`)
when :func:`audiospec.experiments.stage.stages` imports this package's modules."""
