"""What a user types to name a noise prior, and the specification it parses into (:mod:`audiospec.diffusion.priors`
holds the priors themselves and re-exports these names)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

from audiospec.errors import AudiospecError

__all__ = ["NAMED_BETAS", "PRIOR_NAMES", "REFERENCE_PRIOR", "PriorKind", "PriorName", "PriorSpec", "check_beta",
           "default_priors"]

PriorKind = Literal["white", "power_law", "matched", "matched_dct"]
PriorName = Literal["white", "pink", "brown", "blue", "matched", "matched_dct"]
PRIOR_NAMES: tuple[str, ...] = get_args(PriorName)
NAMED_BETAS: dict[str, float] = {"pink": 1.0, "brown": 2.0, "blue": -1.0}
REFERENCE_PRIOR = "white"
"""The prior every other one is compared with (Gaussian N(0, I), the standard diffusion prior)."""
_VALID = f"one of {', '.join(PRIOR_NAMES)}, or beta=<number> (e.g. beta=1.5)"


def default_priors() -> tuple["PriorSpec", ...]:
    """The priors analysed, corrupted and compared unless a config names others: white, pink, matched."""
    return tuple(PriorSpec.parse(name) for name in (REFERENCE_PRIOR, "pink", "matched"))


def check_beta(beta: Any, where: str) -> float:
    """A power-law exponent as a float; AudiospecError naming ``where`` unless it is a finite number."""
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not math.isfinite(beta):
        raise AudiospecError(f"{where} beta must be a finite number (1 = pink, 2 = brown), got {beta!r}")
    return float(beta)


@dataclass(frozen=True, kw_only=True)
class PriorSpec:
    """Which noise prior: ``kind`` and, for ``"power_law"``, the exponent ``beta`` of S ∝ |f|^-beta.

    Build it from what a user types with :meth:`parse` (``"pink"``, ``"beta=1.5"``,
    ``"matched"``); :attr:`name` is the canonical name back (``"pink"`` for beta = 1).
    In YAML a prior is written as its name (``prior: pink``); the mapping form
    ``{kind: power_law, beta: 1.5}`` is accepted too.

    Args:
        kind: ``"white"``, ``"power_law"``, ``"matched"`` (Fourier) or ``"matched_dct"`` (2-D DCT).
        beta: the power-law exponent (finite; 0 unless ``kind="power_law"``).

    Raises:
        AudiospecError: an unknown kind, a non-finite beta, or a beta on a non-power-law prior.
    """

    kind: PriorKind = "white"
    beta: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in get_args(PriorKind):
            raise AudiospecError(f"unknown prior kind {self.kind!r}; kinds are {get_args(PriorKind)}; or give a name: {_VALID}")
        beta = check_beta(self.beta, "prior")
        if self.kind != "power_law" and beta != 0.0:
            raise AudiospecError(f"beta applies to power-law priors only; the {self.kind!r} prior got beta={beta:g}")
        object.__setattr__(self, "beta", beta)

    @property
    def name(self) -> str:
        """The canonical name: ``white``, ``pink``, ``brown``, ``blue``, ``matched``, ``matched_dct`` or
        ``beta=<number>``."""
        if self.kind != "power_law":
            return self.kind
        named = [name for name, beta in NAMED_BETAS.items() if beta == self.beta]
        return named[0] if named else f"beta={self.beta:g}"

    @classmethod
    def parse(cls, text: Any) -> "PriorSpec":
        """The spec a user's name stands for; :class:`AudiospecError` listing the valid names otherwise.

        Args:
            text: a name of :data:`PRIOR_NAMES` or ``beta=<number>`` (case and spaces ignored).

        Returns:
            The :class:`PriorSpec`.

        Raises:
            AudiospecError: not a string, or not a valid name.
        """
        if not isinstance(text, str):
            raise AudiospecError(f"a prior is given by name ({_VALID}), got {text!r}")
        name = text.strip().lower()
        if name in ("white", "matched", "matched_dct"):
            return cls(kind=name)
        if name in NAMED_BETAS:
            return cls(kind="power_law", beta=NAMED_BETAS[name])
        if name.startswith("beta="):
            try:
                beta = float(name[len("beta="):])
            except ValueError:
                beta = math.nan
            if math.isfinite(beta):
                return cls(kind="power_law", beta=beta)
        raise AudiospecError(f"unknown prior {text!r}; choose {_VALID}")

    @classmethod
    def from_dict(cls, value: Any, *, where: str = "prior") -> "PriorSpec":
        """YAML hook of :func:`audiospec.config.config_from_dict`: a name, or ``{kind, beta}``.

        Args:
            value: a :class:`PriorSpec`, a name, or a mapping with keys ``kind`` and ``beta``.
            where: where the value came from, for the error message.

        Returns:
            The :class:`PriorSpec`.

        Raises:
            AudiospecError: any other value, or an invalid name / kind / beta.
        """
        if isinstance(value, PriorSpec):
            return value
        if isinstance(value, str):
            return cls.parse(value)
        if isinstance(value, dict) and set(value) <= {"kind", "beta"}:
            return cls(kind=value.get("kind", "white"), beta=value.get("beta", 0.0))
        raise AudiospecError(f"{where} must be a prior name ({_VALID}) or {{kind, beta}}, got {value!r}")

    def to_config(self) -> str:
        """The YAML/JSON form: the canonical name.

        Returns:
            :attr:`name`, e.g. ``"pink"`` or ``"beta=1.5"``.
        """
        return self.name
