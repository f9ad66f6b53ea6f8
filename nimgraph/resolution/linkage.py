"""Probabilistic record linkage with Splink (Fellegi-Sunter, estimated by expectation maximisation),
on its DuckDB backend, from the settings in nimgraph/data/resolution.yaml.

The model is trained on the data it links, unsupervised: u probabilities from random pairs, then m
probabilities by expectation maximisation over each training block. A prediction is every pair the
blocking rules find at or above the threshold, with its match probability, its match weight and the
contribution of each comparison (the log2 Bayes factor a waterfall chart draws). The trained model is
kept as Splink's JSON, identified by a hash of it, so each run can say which model it used.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from nimgraph.ontology import Core
from nimgraph.private_files import write_private_text

__all__ = [
    "CLASSES",
    "ClassSettings",
    "LinkageError",
    "Pair",
    "Trained",
    "load_settings",
    "predict",
    "train",
]

CLASSES = ("person", "address", "vehicle")
KINDS = (
    "name", "date_of_birth", "address", "text", "postcode", "home_postcode", "premise", "exact", "email", "identifier",
    "registration",
)  # fmt: skip


class LinkageError(ValueError):
    """The linkage settings or data cannot be used as given; the message says what to change."""


@dataclass(frozen=True)
class Comparison:
    column: str
    kind: str


@dataclass(frozen=True)
class ClassSettings:
    name: str
    threshold: float
    blocking: tuple[tuple[str, ...], ...]
    training: tuple[tuple[str, ...], ...]
    comparisons: tuple[Comparison, ...]
    type_name: str = Core.PERSON  # the ontology type whose records the class links


@dataclass(frozen=True)
class Pair:
    """Two records the model proposes may be the same: their ids, probability, weight and why."""

    left: str
    right: str
    match_probability: float
    match_weight: float
    contributions: dict[str, float] = field(default_factory=dict)  # comparison -> log2 Bayes factor
    levels: dict[str, str] = field(default_factory=dict)  # comparison -> the level the pair reached

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Trained:
    """A trained model: Splink's settings JSON (with m and u), its id, and the linker that holds it."""

    settings: ClassSettings
    model: dict[str, Any]
    linker: Any = field(repr=False)

    @property
    def model_id(self) -> str:
        """A hash of the model's settings and parameters: the same data and settings give the same id."""
        fitted = {k: v for k, v in self.model.items() if k != "linker_uid"}  # random for each linker
        text = json.dumps(fitted, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private_text(path, json.dumps({"model_id": self.model_id, "splink": self.model}, indent=1, default=str))
        return path


def _columns(rule: Any, where: str) -> tuple[str, ...]:
    if not isinstance(rule, list) or not rule or not all(isinstance(c, str) and c for c in rule):
        raise LinkageError(f"{where}: a rule is a list of column names, not {rule!r}")
    return tuple(rule)


def load_settings(path: Path | str | None = None) -> dict[str, ClassSettings]:
    """The linkage settings for each class, from ``path`` or the packaged defaults."""
    text = (
        Path(path).read_text(encoding="utf-8")
        if path
        else files("nimgraph").joinpath("data", "resolution.yaml").read_text()
    )
    data = yaml.safe_load(text) or {}
    found = {}
    for name, given in data.items():
        if name not in CLASSES:
            raise LinkageError(f"resolution settings: {name!r} is not one of {', '.join(CLASSES)}")
        try:
            threshold = float(given["threshold"])
            comparisons = tuple(Comparison(c["column"], c["kind"]) for c in given["comparisons"])
        except (KeyError, TypeError, ValueError) as err:
            raise LinkageError(f"resolution settings for {name}: {err}") from None
        if not 0 < threshold < 1:
            raise LinkageError(f"resolution settings for {name}: threshold must lie between 0 and 1")
        unknown = sorted({c.kind for c in comparisons} - set(KINDS))
        if unknown:
            raise LinkageError(f"resolution settings for {name}: unknown comparison kinds {unknown}; known: {KINDS}")
        found[name] = ClassSettings(
            name=name,
            threshold=threshold,
            blocking=tuple(_columns(r, f"{name} blocking") for r in given.get("blocking", [])),
            training=tuple(_columns(r, f"{name} training") for r in given.get("training", [])),
            comparisons=comparisons,
            type_name=str(given.get("type") or name.capitalize()),
        )
    return found


@cache
def _splink():  # imported when linkage runs: Splink is an optional extra (pip install nimgraph[resolution])
    try:
        import splink.comparison_level_library as cll
        import splink.comparison_library as cl
        from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    except ImportError:  # pragma: no cover - the test command installs the extra
        raise LinkageError("entity resolution needs Splink: pip install 'nimgraph[resolution]'") from None
    return cl, cll, DuckDBAPI, Linker, SettingsCreator, block_on


def _comparison(c: Comparison):
    cl, cll, *_ = _splink()
    col = c.column
    quoted = f'"{col}_l"', f'"{col}_r"'
    if c.kind == "name":
        levels = [cll.NullLevel(col), cll.ExactMatchLevel(col)]
        if col == "forename":  # a nickname and its formal name: Bob and Robert
            levels.append(cll.CustomLevel('"forename_canonical_l" = "forename_canonical_r"', "formal names match"))
        levels += [cll.JaroWinklerLevel(col, 0.92), cll.JaroWinklerLevel(col, 0.88), cll.JaroWinklerLevel(col, 0.7)]
        return cl.CustomComparison(output_column_name=col, comparison_levels=[*levels, cll.ElseLevel()])
    if c.kind == "date_of_birth":
        left, right = quoted
        swapped = (
            f"substr({left}, 1, 4) = substr({right}, 1, 4) AND substr({left}, 6, 2) = substr({right}, 9, 2) "
            f"AND substr({left}, 9, 2) = substr({right}, 6, 2)"
        )
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[
                cll.NullLevel(col),
                cll.ExactMatchLevel(col),
                cll.CustomLevel(swapped, "day and month swapped"),
                cll.DamerauLevenshteinLevel(col, 1),
                cll.CustomLevel(f"substr({left}, 1, 7) = substr({right}, 1, 7)", "same year and month"),
                cll.CustomLevel(f"substr({left}, 1, 4) = substr({right}, 1, 4)", "same year"),
                cll.ElseLevel(),
            ],
        )
    if c.kind == "address":
        # The line and the postcode as one comparison: they agree together far more often than apart, and
        # two comparisons would count one shared home twice (a household would look like one person).
        line, postcode = quoted, ('"postcode_l"', '"postcode_r"')
        similar = f"jaro_winkler_similarity({line[0]}, {line[1]})"
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[
                cll.CustomLevel(
                    f"({line[0]} IS NULL OR {line[1]} IS NULL) AND ({postcode[0]} IS NULL OR {postcode[1]} IS NULL)",
                    "no address on one side",
                ).configure(is_null_level=True),
                cll.CustomLevel(f"{line[0]} = {line[1]} AND {postcode[0]} = {postcode[1]}", "same line and postcode"),
                cll.CustomLevel(f"{line[0]} = {line[1]}", "same line, another postcode"),
                cll.CustomLevel(f"{similar} >= 0.9 AND {postcode[0]} = {postcode[1]}", "similar line, same postcode"),
                cll.CustomLevel(
                    f"{similar} >= 0.9 AND damerau_levenshtein({postcode[0]}, {postcode[1]}) <= 1",
                    "similar line, postcode one edit away",
                ),
                cll.CustomLevel(f"{similar} >= 0.75 AND {postcode[0]} = {postcode[1]}", "like line, same postcode"),
                cll.CustomLevel(f"{postcode[0]} = {postcode[1]}", "same postcode"),
                cll.CustomLevel(f"{similar} >= 0.9", "similar line, another postcode"),
                cll.ElseLevel(),
            ],
        )
    if c.kind == "text":
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[
                cll.NullLevel(col),
                cll.ExactMatchLevel(col),
                cll.JaroWinklerLevel(col, 0.9),
                cll.JaroWinklerLevel(col, 0.75),
                cll.ElseLevel(),
            ],
        )
    if c.kind in ("postcode", "home_postcode"):
        left, right = quoted
        levels = [
            cll.ExactMatchLevel(col),
            cll.DamerauLevenshteinLevel(col, 1),
            cll.CustomLevel(
                f"length({left}) > 4 AND substr({left}, 1, length({left}) - 3) "
                f"= substr({right}, 1, length({right}) - 3)",
                "same district",
            ),
            cll.ElseLevel(),
        ]
        if c.kind == "home_postcode":
            # Fixed, not trained, for the same reason as a premise: a home's records give its postcode,
            # now and then mistyped, and hardly ever another district's; the same line in another
            # postcode is, more often than not, a street of the same name in another town.
            levels = [level.configure(m_probability=m, fix_m_probability=True)
                      for level, m in zip(levels, (0.95, 0.045, 0.004, 0.001), strict=True)]  # fmt: skip
        return cl.CustomComparison(output_column_name=col, comparison_levels=[cll.NullLevel(col), *levels])
    if c.kind == "premise":
        # Fixed, not trained: within a postcode almost every pair differs in its numbers, so expectation
        # maximisation would learn that the same home often has another number. Records of one home
        # give the same house and flat numbers all but rarely; another number is another home.
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[
                cll.NullLevel(col),
                cll.ExactMatchLevel(col).configure(m_probability=0.999, fix_m_probability=True),
                cll.ElseLevel().configure(m_probability=0.001, fix_m_probability=True),
            ],
        )
    if c.kind == "identifier":
        return cl.DamerauLevenshteinAtThresholds(col, [1, 2])
    if c.kind == "registration":
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[
                cll.NullLevel(col),
                cll.ExactMatchLevel(col),
                cll.CustomLevel('"registration_key_l" = "registration_key_r"', "same but for characters misread"),
                cll.DamerauLevenshteinLevel(col, 1),
                cll.ElseLevel(),
            ],
        )
    if c.kind == "email":
        # Exact only: an address made of a name (robert.baison130@) is like another (robert.baimison732@)
        # because the names are alike, which the name comparisons count already; two addresses are two.
        return cl.CustomComparison(
            output_column_name=col,
            comparison_levels=[cll.NullLevel(col), cll.ExactMatchLevel(col), cll.ElseLevel()],
        )
    return cl.ExactMatch(col)


def _rule(columns: Sequence[str]):
    *_, block_on = _splink()
    return block_on(*columns)


def train(
    settings: ClassSettings,
    frames: Sequence[Any],
    *,
    link_type: str = "dedupe_only",
    seed: int = 2026,
    u_pairs: float = 2e6,
    say: Callable[[str], None] = lambda _: None,
) -> Trained:
    """Train the class's model on ``frames`` (pandas DataFrames of canonical rows), unsupervised."""
    import logging

    *_, DuckDBAPI, Linker, SettingsCreator, _ = _splink()
    from splink.internals.exceptions import SplinkException

    logging.getLogger("splink").setLevel(logging.ERROR)  # its notes are for its developers, not analysts
    if not frames or all(len(f) == 0 for f in frames):
        raise LinkageError("there are no records to link")
    # a column no record fills can neither be trained nor tell records apart: left out, and said so
    empty = {c for c in {c.column for c in settings.comparisons} | {c for r in settings.blocking for c in r}
             if all(c not in f.columns or f[c].isna().all() for f in frames)}  # fmt: skip
    if empty:
        say(f"no record has {', '.join(sorted(empty))}: left out of this model")
    comparisons = [c for c in settings.comparisons if c.column not in empty]
    blocking = [r for r in settings.blocking if not set(r) & empty]
    if not comparisons or not blocking:
        raise LinkageError("the records fill none of the columns the model compares or blocks on")
    settings = ClassSettings(
        settings.name, settings.threshold, tuple(blocking),
        tuple(r for r in settings.training if not set(r) & empty) or tuple(blocking[:1]), tuple(comparisons),
        settings.type_name,
    )  # fmt: skip
    creator = SettingsCreator(
        link_type=link_type,
        comparisons=[_comparison(c) for c in settings.comparisons],
        blocking_rules_to_generate_predictions=[_rule(r) for r in settings.blocking],
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,
    )
    tables = list(frames) if len(frames) > 1 else frames[0]
    # no basic logging: it would configure the root logger of whatever process runs linkage (the API server)
    linker = Linker(tables, creator, db_api=DuckDBAPI(), set_up_basic_logging=False)
    try:
        say("estimating u from random pairs")
        rules = [_rule(r) for r in settings.blocking[:2]]
        linker.training.estimate_probability_two_random_records_match(rules, recall=0.8)
        linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
        for rule in settings.training:
            say(f"estimating m by expectation maximisation, blocking on {', '.join(rule)}")
            linker.training.estimate_parameters_using_expectation_maximisation(_rule(rule), fix_u_probabilities=True)
    except SplinkException as err:  # too few records, or none alike enough to learn from: say so, and go on
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise LinkageError(f"the {settings.name} model cannot be trained on these records: {first}") from None
    model = linker.misc.save_model_to_json(out_path=None) if hasattr(linker, "misc") else {}
    return Trained(settings=settings, model=model, linker=linker)


def predict(trained: Trained, threshold: float | None = None) -> list[Pair]:
    """Every pair the blocking rules find at or above ``threshold`` (the class's by default)."""
    cut = trained.settings.threshold if threshold is None else threshold
    frame = trained.linker.inference.predict(threshold_match_probability=cut).as_pandas_dataframe()
    names = [c.column for c in trained.settings.comparisons]
    pairs = []
    for row in frame.itertuples(index=False):
        data = row._asdict()
        contributions = {}
        levels = {}
        for name in names:
            bf = data.get(f"bf_{name}")
            if bf is not None and bf == bf and bf > 0:
                contributions[name] = round(math.log2(bf), 3)
            gamma = data.get(f"gamma_{name}")
            if gamma is not None:
                levels[name] = str(gamma)
        pairs.append(
            Pair(
                left=str(data["unique_id_l"]),
                right=str(data["unique_id_r"]),
                match_probability=float(data["match_probability"]),
                match_weight=float(data["match_weight"]),
                contributions=contributions,
                levels=levels,
            )
        )
    pairs.sort(key=lambda p: (-p.match_probability, p.left, p.right))
    return pairs
