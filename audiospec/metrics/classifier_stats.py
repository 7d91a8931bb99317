"""What the metric classifier thinks of a set of samples: an Inception-score-like summary.

Given class probabilities p(y | x_n) ``[N, C]`` of N generated samples:

- ``confidence`` = mean_n max_y p(y | x_n): how sure the classifier is. Real clips of a
  well-trained classifier score near its validation accuracy; ambiguous or unrealistic
  samples score lower (1 / C at worst).
- ``entropy`` = mean_n H(p(. | x_n)), H(p) = -sum_y p_y ln p_y in nats: the same seen
  through the whole distribution; 0 = every sample unambiguous, ln C = uniform guesses.
- ``marginal_entropy`` = H(mean_n p(. | x_n)): diversity over classes; ln C when the
  set covers all classes evenly, 0 when it collapses onto one.
- ``inception_score`` = exp(mean_n KL(p(. | x_n) || p(.))) = exp(marginal_entropy - entropy)
  (Salimans et al. 2016): between 1 and C, high when samples are both confident and
  diverse. With a 2-class classifier it carries little information; read the parts.
- ``class_fractions``: share of samples whose most probable class is each class
  (argmax histogram; compare with the real set's class balance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite

__all__ = ["classifier_statistics"]


def classifier_statistics(
    proba: torch.Tensor, *, classes: Sequence[str] | None = None
) -> dict[str, float | dict[str, float]]:
    """Summary of class probabilities ``proba`` ``[N, C]`` (rows sum to 1); see the module docstring.

    Returns ``confidence``, ``entropy``, ``marginal_entropy``, ``inception_score`` (floats)
    and ``class_fractions`` (class name -> share; names ``"0"``, ``"1"``, ... without ``classes``).

    Args:
        proba: class probabilities ``[N, C]`` of N >= 1 samples, C >= 2 (softmax outputs).
        classes: the C class names (default ``"0"``, ``"1"``, ...).

    Returns:
        ``{"confidence", "entropy", "marginal_entropy", "inception_score": float,
        "class_fractions": {name: share}}``.

    Raises:
        AudiospecError: ``proba`` not ``[N >= 1, C >= 2]``, NaN / Inf, rows that are negative or
            do not sum to 1 (logits passed), or a wrong number of class names.
    """
    if not isinstance(proba, torch.Tensor) or proba.ndim != 2 or proba.shape[0] < 1 or proba.shape[1] < 2:
        shape = tuple(proba.shape) if isinstance(proba, torch.Tensor) else type(proba).__name__
        raise AudiospecError(f"proba must be class probabilities [N >= 1, C >= 2], got {shape}")
    check_finite(proba, name="proba")
    p = proba.to(torch.float64)
    N, C = p.shape
    row_sums = p.sum(dim=-1)
    if bool((p < 0).any()) or not torch.allclose(row_sums, torch.ones_like(row_sums), atol=1e-4):
        raise AudiospecError(
            f"proba rows must be non-negative and sum to 1 (got sums in [{float(row_sums.min()):.4g}, "
            f"{float(row_sums.max()):.4g}]); pass softmax probabilities, not logits"
        )
    names = [str(i) for i in range(C)] if classes is None else [str(c) for c in classes]
    if len(names) != C:
        raise AudiospecError(f"got {len(names)} class names for {C} probability columns")
    plogp = torch.special.xlogy(p, p)  # 0 log 0 = 0
    entropy = float(-plogp.sum(-1).mean())
    marginal = p.mean(dim=0)  # [C]
    marginal_entropy = float(-torch.special.xlogy(marginal, marginal).sum())
    counts = torch.bincount(p.argmax(dim=-1), minlength=C).to(torch.float64) / N
    return {
        "confidence": float(p.max(dim=-1).values.mean()),
        "entropy": entropy,
        "marginal_entropy": marginal_entropy,
        "inception_score": math.exp(marginal_entropy - entropy),
        "class_fractions": {name: float(f) for name, f in zip(names, counts)},
    }
