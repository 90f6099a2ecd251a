"""Workloads: named mixes of request classes, each with prompt and output length distributions.

A :class:`Workload` is a tuple of :class:`RequestClass` es, each with a share of the
requests [0-1], a prompt and an output :class:`LengthDistribution` [tokens] and a
prefix-cache hit rate [0-1] (the share of its prompt tokens found in the cache). Costs
and latencies are computed over the distributions, never at their means: each class's
lengths are represented by ``QUANTILE_NODES`` equally likely quantile nodes, the
midpoints ``(k + 0.5) / n`` of n equal slices of probability (:meth:`Workload.nodes`).
Within a class the prompt and output lengths are taken as independent (in Kimi's
conversation trace, ``assets/workloads.csv`` ``chat``, the correlation of their
logarithms is 0.05).

Distributions (:class:`LengthDistribution`): ``lognormal(mean, cv)`` (a mean and a
coefficient of variation, the spread), ``uniform(low, high)``, ``fixed(tokens)`` and
``empirical(probabilities, tokens)`` (a quantile table, linear in between, from 0 to 1).

The catalog ``assets/workloads.csv`` holds published shapes (each row a class with its
``source`` and ``date``); :func:`catalog_workloads` reads it, :func:`workload` builds
your own from numbers (checked: ``ValueError`` names the bad value).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from costmodel.catalog import ASSETS_DIR, read_table
from costmodel.fields import FIELD_RANGES
from costmodel.queueing import normal_quantile

#: Equally likely quantile nodes per class and length: the midpoints of 32 slices of
#: probability, from 1/64 to 63/64.
QUANTILE_NODES = 32

#: Kinds of :class:`LengthDistribution`.
KINDS = ("lognormal", "uniform", "fixed", "empirical")

#: Token lengths a distribution may reach: the Scenario's prompt range (1 to 131,072).
TOKEN_RANGE = FIELD_RANGES["prompt_tokens"]

#: Largest coefficient of variation a lognormal length may have [-] (the Kimi trace's
#: prompts have 1.31).
MAX_CV = 5.0


def _positive_tokens(name: str, value) -> float:
    low, high = TOKEN_RANGE
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a number of tokens in [{low}, {high}]; got {value!r}")
    if not (np.isfinite(value) and low <= value <= high):
        raise ValueError(f"{name} must be a number of tokens in [{low}, {high}]; got {value!r}")
    return float(value)


@dataclass(frozen=True)
class LengthDistribution:
    """A distribution of token lengths. Make one with :meth:`lognormal`, :meth:`uniform`,
    :meth:`fixed` or :meth:`empirical`; ``quantile(p)`` and ``sample(rng, n)`` [tokens]."""

    kind: str
    probabilities: tuple[float, ...] = ()
    tokens: tuple[float, ...] = ()
    mean_tokens: float = float("nan")
    cv: float = 0.0

    @classmethod
    def lognormal(cls, mean_tokens: float, cv: float) -> LengthDistribution:
        """Lognormal of mean ``mean_tokens`` and coefficient of variation ``cv`` [-]:
        ``sigma^2 = ln(1 + cv^2)``, ``mu = ln(mean) - sigma^2 / 2``. Its quantiles are
        clipped to ``TOKEN_RANGE``."""
        mean = _positive_tokens("mean_tokens", mean_tokens)
        if isinstance(cv, bool) or not (isinstance(cv, int | float) and 0 <= cv <= MAX_CV):
            raise ValueError(f"cv must be a number in [0, {MAX_CV}]; got {cv!r}")
        return cls("lognormal", mean_tokens=mean, cv=float(cv))

    @classmethod
    def uniform(cls, low_tokens: float, high_tokens: float) -> LengthDistribution:
        """Uniform between ``low_tokens`` and ``high_tokens`` (InferenceX draws each
        request's lengths from [0.8 L, L])."""
        low = _positive_tokens("low_tokens", low_tokens)
        high = _positive_tokens("high_tokens", high_tokens)
        if high < low:
            raise ValueError(f"high_tokens ({high}) must be at least low_tokens ({low})")
        return cls("empirical", probabilities=(0.0, 1.0), tokens=(low, high))

    @classmethod
    def fixed(cls, tokens: float) -> LengthDistribution:
        """Every request has ``tokens`` tokens."""
        t = _positive_tokens("tokens", tokens)
        return cls("empirical", probabilities=(0.0, 1.0), tokens=(t, t))

    @classmethod
    def empirical(cls, probabilities, tokens) -> LengthDistribution:
        """A quantile table: ``tokens[i]`` is the ``probabilities[i]`` quantile, linear in
        between; probabilities rise from 0 to 1 and tokens do not fall."""
        p = [float(v) for v in probabilities]
        t = [_positive_tokens(f"tokens[{i}]", v) for i, v in enumerate(tokens)]
        if len(p) != len(t) or len(p) < 2:
            raise ValueError("probabilities and tokens must be equally long, 2 or more values")
        if p[0] != 0.0 or p[-1] != 1.0 or np.any(np.diff(p) <= 0):
            raise ValueError(f"probabilities must rise strictly from 0 to 1; got {p}")
        if np.any(np.diff(t) < 0):
            raise ValueError(f"tokens must not fall as the probability rises; got {t}")
        return cls("empirical", probabilities=tuple(p), tokens=tuple(t))

    def quantile(self, p) -> np.ndarray:
        """The ``p`` quantile [tokens], vectorised over ``p`` in (0, 1)."""
        p = np.asarray(p, float)
        if self.kind == "lognormal":
            sigma = np.sqrt(np.log1p(self.cv**2))
            mu = np.log(self.mean_tokens) - sigma**2 / 2
            return np.clip(np.exp(mu + sigma * normal_quantile(p)), *TOKEN_RANGE)
        return np.interp(p, self.probabilities, self.tokens)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` lengths drawn at random [tokens] (inverse transform of uniform draws)."""
        u = rng.uniform(0.0, 1.0, n)
        if self.kind == "lognormal":
            sigma = np.sqrt(np.log1p(self.cv**2))
            mu = np.log(self.mean_tokens) - sigma**2 / 2
            return np.clip(rng.lognormal(mu, sigma, n), *TOKEN_RANGE)
        return np.interp(u, self.probabilities, self.tokens)

    def describe(self) -> str:
        """``"lognormal, mean 1,000, cv 0.5"``, ``"uniform 819-1,024"``, ``"1,024"``, ..."""
        if self.kind == "lognormal":
            return f"lognormal, mean {self.mean_tokens:,.0f}, cv {self.cv:g}"
        if len(self.tokens) == 2 and self.tokens[0] == self.tokens[1]:
            return f"{self.tokens[0]:,.0f}"
        if len(self.tokens) == 2:
            return f"uniform {self.tokens[0]:,.0f}-{self.tokens[1]:,.0f}"
        return f"empirical, median {float(self.quantile(0.5)):,.0f}"


def _distribution(name: str, value) -> LengthDistribution:
    """A number (fixed), a ``(mean, cv)`` pair (lognormal) or a distribution."""
    if isinstance(value, LengthDistribution):
        return value
    if isinstance(value, tuple | list) and len(value) == 2:
        return LengthDistribution.lognormal(*value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return LengthDistribution.fixed(value)
    raise ValueError(
        f"{name} must be a number of tokens, a (mean tokens, cv) pair or a "
        f"LengthDistribution; got {value!r}"
    )


@dataclass(frozen=True)
class RequestClass:
    """One kind of request: its ``share`` of the requests [0-1], its ``prompt`` and
    ``output`` lengths [tokens] and its ``prefix_cache_hit_rate`` [0-1]."""

    name: str
    share: float
    prompt: LengthDistribution
    output: LengthDistribution
    prefix_cache_hit_rate: float = 0.0


@dataclass(frozen=True)
class Workload:
    """A named mix of request classes, with where its numbers come from."""

    name: str
    classes: tuple[RequestClass, ...]
    source: str = "your own"
    date: str = ""
    description: str = ""

    def nodes(self, n: int = QUANTILE_NODES) -> dict[str, pd.DataFrame]:
        """The quadrature nodes: ``prompt`` and ``output`` frames, n rows per class.

        Each row: ``request_class`` (index into ``classes``), ``weight`` (the class's
        share / n), ``tokens`` (the ``(k + 0.5) / n`` quantile, rounded to whole tokens,
        at least 1) and ``prefix_cache_hit_rate``. A mean over the workload is
        ``sum(weight * f(tokens))``. Worked out once per workload and n (copies returned).
        """
        memo = self.__dict__.setdefault("_nodes_memo", {})  # a frozen instance's own cache
        if n not in memo:
            memo[n] = self._nodes(n)
        return {length: frame.copy() for length, frame in memo[n].items()}

    def _nodes(self, n: int) -> dict[str, pd.DataFrame]:
        p = (np.arange(n) + 0.5) / n
        frames = {}
        for length in ("prompt", "output"):
            rows = [
                pd.DataFrame(
                    {
                        "request_class": i,
                        "weight": c.share / n,
                        "tokens": np.maximum(np.round(getattr(c, length).quantile(p)), 1.0),
                        "prefix_cache_hit_rate": c.prefix_cache_hit_rate,
                    }
                )
                for i, c in enumerate(self.classes)
            ]
            frames[length] = pd.concat(rows, ignore_index=True)
        return frames

    def mean_tokens(self, n: int = QUANTILE_NODES) -> dict[str, float]:
        """Mean ``prompt`` and ``output`` tokens per request over the nodes [tokens], and
        ``cached_prompt`` (prompt tokens found in the prefix cache)."""
        memo = self.__dict__.setdefault("_mean_tokens_memo", {})
        if n not in memo:
            memo[n] = self._mean_tokens(n)
        return dict(memo[n])

    def _mean_tokens(self, n: int) -> dict[str, float]:
        nodes = self.nodes(n)
        prompt, output = nodes["prompt"], nodes["output"]
        return {
            "prompt": float((prompt["weight"] * prompt["tokens"]).sum()),
            "output": float((output["weight"] * output["tokens"]).sum()),
            "cached_prompt": float(
                (prompt["weight"] * prompt["tokens"] * prompt["prefix_cache_hit_rate"]).sum()
            ),
        }

    def describe(self) -> pd.DataFrame:
        """One row per class: share, prompt, output (in words), hit rate."""
        return pd.DataFrame(
            {
                "request_class": [c.name for c in self.classes],
                "share": [c.share for c in self.classes],
                "prompt_tokens": [c.prompt.describe() for c in self.classes],
                "output_tokens": [c.output.describe() for c in self.classes],
                "prefix_cache_hit_rate": [c.prefix_cache_hit_rate for c in self.classes],
            }
        )


def request_class(name: str, share, prompt, output, prefix_cache_hit_rate=0.0) -> RequestClass:
    """A checked :class:`RequestClass`. ``prompt`` and ``output``: a number of tokens
    (fixed), a ``(mean tokens, cv)`` pair (lognormal) or a :class:`LengthDistribution`.

    ``request_class("chat", 0.7, (800, 1.2), (300, 0.8), 0.4)``: 70 % of requests with
    lognormal prompts of mean 800 tokens (cv 1.2) and outputs of mean 300 (cv 0.8), 40 %
    of each prompt in the prefix cache.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string; got {name!r}")
    if isinstance(share, bool) or not (isinstance(share, int | float) and 0 < share <= 1e9):
        raise ValueError(f"share of {name} must be a number > 0; got {share!r}")
    h = prefix_cache_hit_rate
    if isinstance(h, bool) or not (isinstance(h, int | float) and 0 <= h <= 1):
        raise ValueError(f"prefix_cache_hit_rate of {name} must be in [0, 1]; got {h!r}")
    return RequestClass(
        name,
        float(share),
        _distribution(f"prompt of {name}", prompt),
        _distribution(f"output of {name}", output),
        float(h),
    )


def workload(name: str, *classes: RequestClass, source="your own", date="", description=""):
    """A checked :class:`Workload` of ``classes``; their shares are scaled to sum to 1.

    ``workload("mine", request_class("chat", 3, 500, 200), request_class("rag", 1,
    (8000, 0.5), 300))``: 75 % chat, 25 % RAG.
    """
    if not classes or not all(isinstance(c, RequestClass) for c in classes):
        raise ValueError("a workload needs one or more RequestClass (see request_class)")
    names = [c.name for c in classes]
    if len(set(names)) < len(names):
        raise ValueError(f"request class names must differ; got {names}")
    total = sum(c.share for c in classes)
    scaled = tuple(
        RequestClass(c.name, c.share / total, c.prompt, c.output, c.prefix_cache_hit_rate)
        for c in classes
    )
    return Workload(name, scaled, source, date, description)


# --- the catalog ------------------------------------------------------------------------

#: The workload catalog file.
WORKLOADS_CSV = ASSETS_DIR / "workloads.csv"


def _catalog_distribution(row: pd.Series, length: str) -> LengthDistribution:
    kind = row[f"{length}_distribution"]
    if kind == "lognormal":
        return LengthDistribution.lognormal(row[f"{length}_mean_tokens"], row[f"{length}_cv"])
    if kind == "uniform":
        return LengthDistribution.uniform(row[f"{length}_low_tokens"], row[f"{length}_high_tokens"])
    if kind == "fixed":
        return LengthDistribution.fixed(row[f"{length}_mean_tokens"])
    if kind == "empirical":
        pairs = [item.split(":") for item in str(row[f"{length}_quantiles"]).split()]
        return LengthDistribution.empirical([p for p, _ in pairs], [float(t) for _, t in pairs])
    raise ValueError(
        f"workloads.csv: {length}_distribution of {row['workload']} must be one of "
        f"{', '.join(KINDS)}; got {kind!r}"
    )


@functools.lru_cache(maxsize=2)
def catalog_workloads(path: str | Path = WORKLOADS_CSV) -> dict[str, Workload]:
    """Every workload of ``assets/workloads.csv`` by name (rows: one class each)."""
    table = read_table(Path(path))
    found = {}
    for name, rows in table.groupby("workload", sort=False):
        classes = [
            request_class(
                r["request_class"],
                float(r["share"]),
                _catalog_distribution(r, "prompt"),
                _catalog_distribution(r, "output"),
                float(r["prefix_cache_hit_rate"]),
            )
            for _, r in rows.iterrows()
        ]
        first = rows.iloc[0]
        found[name] = workload(
            name,
            *classes,
            source="; ".join(dict.fromkeys(rows["source"])),
            date=str(max(rows["date"].astype(str))),
            description=str(first["description"]),
        )
    return found


def get_workload(name: str) -> Workload:
    """The catalog workload ``name`` (``ValueError`` listing the names otherwise)."""
    found = catalog_workloads()
    if name not in found:
        raise ValueError(f"workload must be one of {', '.join(found)}; got {name!r}")
    return found[name]
