"""Memorisation check: are generated patches closer to the training set than held-out real patches are?

For a set Q and the training set R = {r_j}, the nearest-neighbour distance of q in Q is

    d(q, R) = min_j ||q - r_j||_2       (flattened patches, float64).

A model that copies training patches puts its samples at d ~ 0, far closer than real
test patches sit to the training set. The ratio of medians, a simple form of the
generated-vs-test nearest-neighbour comparison of Meehan, Chaudhuri & Dasgupta 2020
("A Non-Parametric Test to Detect Data-Copying in Generative Models", AISTATS),

    rho = median_{x in samples} d(x, train) / median_{x in test} d(x, train)

is ~1 for a model that generalises like the data, and well below 1 when it copies.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from audiospec.errors import AudiospecError
from audiospec.functional._shape import check_finite

__all__ = ["MemorisationRatio", "nearest_distances", "memorisation_ratio"]


@dataclass(frozen=True)
class MemorisationRatio:
    """Medians of the nearest-training-patch distances and their ratio rho (module docstring).

    Attributes:
        sample_to_train: median distance of a generated patch to its nearest training patch.
        test_to_train: median distance of a held-out real patch to its nearest training patch.
        ratio: rho = sample_to_train / test_to_train (well below 1 flags copying).
    """

    sample_to_train: float
    test_to_train: float
    ratio: float

    def to_dict(self) -> dict[str, float]:
        """JSON-ready ``{"sample_to_train", "test_to_train", "ratio"}``.

        Returns:
            The three floats by name.
        """
        return asdict(self)


def _flat(x: torch.Tensor, *, name: str) -> torch.Tensor:
    """``[N, ...]`` -> ``[N, P]`` float64, checked (N >= 1, real, finite)."""
    if not isinstance(x, torch.Tensor):
        raise AudiospecError(f"{name} must be a torch.Tensor [N, ...], got {type(x).__name__}")
    if x.ndim < 1 or x.shape[0] < 1 or x[0].numel() < 1:
        raise AudiospecError(f"{name} must hold at least one non-empty item [N, ...], got shape {tuple(x.shape)}")
    if torch.is_complex(x) or x.dtype == torch.bool:
        raise AudiospecError(f"{name} must hold real numbers, got dtype {x.dtype}")
    check_finite(x, name=name)
    return x.detach().to("cpu", torch.float64).reshape(x.shape[0], -1)  # [N, ...] -> [N, P]


def nearest_distances(
    queries: torch.Tensor, references: torch.Tensor, *, chunk_size: int = 256
) -> torch.Tensor:
    """d(q, R) for each query: ``queries`` ``[N, ...]``, ``references`` ``[M, ...]`` -> ``[N]`` float64.

    Items are flattened; trailing shapes must match. Distances are computed in float64
    with :func:`torch.cdist` on ``chunk_size`` queries at a time (memory ``chunk_size x M``),
    without the matrix-product shortcut, so an exact copy gives exactly 0.

    Args:
        queries: items ``[N, ...]``, N >= 1, real and finite.
        references: items ``[M, ...]`` of the same item shape.
        chunk_size: queries per distance block, >= 1.

    Returns:
        Nearest-neighbour distances ``[N]`` (float64).

    Raises:
        AudiospecError: non-tensors, empty, complex or non-finite sets, item shapes that differ,
            or a bad ``chunk_size``.
    """
    q = _flat(queries, name="queries")
    r = _flat(references, name="references")
    if queries.shape[1:] != references.shape[1:]:
        raise AudiospecError(
            f"queries are items of shape {tuple(queries.shape[1:])} but references are {tuple(references.shape[1:])}; "
            "cut both sets to the same patch size"
        )
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise AudiospecError(f"chunk_size must be an integer >= 1, got {chunk_size!r}")
    out = torch.empty(q.shape[0], dtype=torch.float64)
    for start in range(0, q.shape[0], chunk_size):
        block = q[start : start + chunk_size]  # [C, P]
        dist = torch.cdist(block, r, compute_mode="donot_use_mm_for_euclid_dist")  # [C, M]
        out[start : start + chunk_size] = dist.min(dim=1).values
    return out


def memorisation_ratio(
    samples: torch.Tensor, test: torch.Tensor, train: torch.Tensor, *, chunk_size: int = 256
) -> MemorisationRatio:
    """rho = median d(samples, train) / median d(test, train) (module docstring).

    ``samples`` ``[N, ...]`` generated patches, ``test`` ``[K, ...]`` held-out real patches,
    ``train`` ``[M, ...]`` the training patches, all of one item shape. rho well below 1
    flags copying. Medians average the two middle values for an even count. Use samples
    and test sets of similar size drawn the same way (same clips per second, same cuts).

    Args:
        samples: generated patches ``[N, ...]``.
        test: held-out real patches ``[K, ...]``.
        train: training patches ``[M, ...]``.
        chunk_size: queries per distance block, >= 1.

    Returns:
        :class:`MemorisationRatio`.

    Raises:
        AudiospecError: sets rejected by :func:`nearest_distances`, or a test set whose median
            patch lies in the training set (distance 0: the split overlaps).
    """
    to_train = float(torch.quantile(nearest_distances(samples, train, chunk_size=chunk_size), 0.5))
    test_to_train = float(torch.quantile(nearest_distances(test, train, chunk_size=chunk_size), 0.5))
    if test_to_train == 0.0:
        raise AudiospecError(
            "the median test patch has distance 0 to the training set, so the ratio is undefined; "
            "the test set overlaps the training set: split them without shared patches"
        )
    return MemorisationRatio(sample_to_train=to_train, test_to_train=test_to_train, ratio=to_train / test_to_train)
