"""The stages of a run and what they share.

- :mod:`~audiospec.experiments.stage`: the stage contract (name, config, result, output file, ``run(config,
  context)``) and its registry, which the pipeline, the command line and the report iterate;
- :mod:`~audiospec.experiments.stages`: the stages, one module each (analysis, corrupt, compare, curve, probe,
  baselines);
- :mod:`~audiospec.experiments.context`: the run context built once per run (corpus, split, classifier, floors,
  model stores); :mod:`~audiospec.experiments.protocol`: the protocol the model stages share (``compare``);
- :mod:`~audiospec.experiments.rows`, :mod:`~audiospec.experiments.results`: typed metric rows, tables and
  results (numbers only: the words and figures are :mod:`audiospec.report`'s);
- :mod:`~audiospec.experiments.pipeline`: a whole recipe; :mod:`~audiospec.experiments.train_run`: one model.
"""
