"""How a tuning job picks each trial's hyperparameters: Random, Grid and Bayesian.

``ParameterRanges`` holds Integer and Continuous ranges (MinValue, MaxValue, ScalingType) and
Categorical ones (Values), all as strings, as on the wire. Each strategy's ``ask()`` gives the
next trial's tuned values as strings (None when it has nothing left to try), ``tell()`` hears
a finished trial's objective value (None: no objective, or the trial failed).

- **Random** draws each value independently, on the range's scale.
- **Grid** walks every combination of the categorical values (AWS allows only categorical
  ranges with Grid, and runs exactly as many trials as there are combinations).
- **Bayesian** uses optuna's TPE sampler (Tree-structured Parzen Estimator): a maintained
  Bayesian optimiser that, like AWS's, models the good and bad regions of the space from the
  trials so far, handles integer, log-scaled and categorical values natively, and works with
  trials that run in parallel (ask/tell). Its first trials are random, as AWS's are.
"""
from __future__ import annotations

import itertools
import math
import random
from typing import Any

from .errors import validation

RANGE_KINDS = ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")


def _number(value: str, kind: str, name: str, field: str) -> float:
    try:
        return int(value) if kind == "IntegerParameterRanges" else float(value)
    except ValueError:
        raise validation(f"The {field} '{value}' of hyperparameter '{name}' is not "
                         f"{'an integer' if kind.startswith('Integer') else 'a number'}. "
                         "Give the range's limits as numbers, e.g. IntegerParameter(1, 10).")


class Space:
    """The parameter ranges, checked as AWS checks them."""

    def __init__(self, ranges: dict[str, Any]):
        self.numeric: list[tuple[str, str, float, float, str]] = []  # name, kind, lo, hi, scale
        self.categorical: list[tuple[str, list[str]]] = []
        seen = set()
        for kind in RANGE_KINDS:
            for item in ranges.get(kind) or []:
                name = item["Name"]
                if name in seen:
                    raise validation(f"Hyperparameter '{name}' has more than one range. Give each "
                                     "tuned hyperparameter one range.")
                seen.add(name)
                if kind == "CategoricalParameterRanges":
                    self.categorical.append((name, list(item["Values"])))
                    continue
                low = _number(item["MinValue"], kind, name, "MinValue")
                high = _number(item["MaxValue"], kind, name, "MaxValue")
                scale = item.get("ScalingType", "Auto")
                if low > high:
                    raise validation(f"The MinValue {low} of hyperparameter '{name}' is greater "
                                     f"than its MaxValue {high}. Swap them.")
                if scale == "Logarithmic" and low <= 0:
                    raise validation(f"Hyperparameter '{name}' uses Logarithmic scaling, which "
                                     "needs MinValue greater than 0. Raise MinValue or use "
                                     "scaling_type='Linear'.")
                if scale == "ReverseLogarithmic" and (kind != "ContinuousParameterRanges"
                                                      or low < 0 or high >= 1):
                    raise validation(f"Hyperparameter '{name}' uses ReverseLogarithmic scaling, "
                                     "which applies only to continuous ranges within [0, 1). "
                                     "Change the range or use scaling_type='Linear'.")
                self.numeric.append((name, kind, low, high, scale))
        self.names = sorted(seen)

    def combinations(self) -> int:
        return math.prod(len(values) for _, values in self.categorical)


def _text(kind: str, value: float) -> str:
    return str(int(round(value))) if kind == "IntegerParameterRanges" else repr(float(value))


def _draw(rng: random.Random, kind: str, low: float, high: float, scale: str) -> str:
    if scale == "Logarithmic":
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    elif scale == "ReverseLogarithmic":
        value = 1 - math.exp(rng.uniform(math.log(1 - high), math.log(1 - low)))
    else:
        value = rng.uniform(low, high)
    if kind == "IntegerParameterRanges":
        return str(min(int(high), max(int(low), int(round(value)))))
    return repr(float(value))


class RandomSearch:
    def __init__(self, space: Space, seed: int | None):
        self.space, self.rng = space, random.Random(seed)

    def ask(self) -> dict[str, str] | None:
        values = {name: _draw(self.rng, kind, low, high, scale)
                  for name, kind, low, high, scale in self.space.numeric}
        values.update({name: self.rng.choice(choices) for name, choices in self.space.categorical})
        return values

    def tell(self, values: dict[str, str], objective: float | None) -> None:
        pass  # each draw is independent


class GridSearch:
    def __init__(self, space: Space, seed: int | None):
        names = [name for name, _ in space.categorical]
        self._grid = (dict(zip(names, combo))
                      for combo in itertools.product(*(v for _, v in space.categorical)))

    def ask(self) -> dict[str, str] | None:
        return next(self._grid, None)

    def tell(self, values: dict[str, str], objective: float | None) -> None:
        pass


class BayesianSearch:
    """optuna's TPE sampler through its ask/tell interface, one study per tuning job."""

    def __init__(self, space: Space, seed: int | None, minimize: bool):
        import optuna
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna, self.space = optuna, space
        self._study = optuna.create_study(
            direction="minimize" if minimize else "maximize",
            sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=3))
        self._pending: dict[tuple, Any] = {}

    def ask(self) -> dict[str, str] | None:
        trial = self._study.ask()
        values = {}
        for name, kind, low, high, scale in self.space.numeric:
            log = scale == "Logarithmic"
            if kind == "IntegerParameterRanges":
                values[name] = str(trial.suggest_int(name, int(low), int(high), log=log))
            elif scale == "ReverseLogarithmic":  # 1 - x on a log scale
                flipped = trial.suggest_float(name + "__1-x", 1 - high, 1 - low, log=True)
                values[name] = repr(1 - flipped)
            else:
                values[name] = repr(trial.suggest_float(name, low, high, log=log))
        for name, choices in self.space.categorical:
            values[name] = trial.suggest_categorical(name, choices)
        self._pending[tuple(sorted(values.items()))] = trial
        return values

    def tell(self, values: dict[str, str], objective: float | None) -> None:
        trial = self._pending.pop(tuple(sorted(values.items())), None)
        if trial is None:
            return
        state = self._optuna.trial.TrialState
        if objective is None:
            self._study.tell(trial, state=state.FAIL)
        else:
            self._study.tell(trial, objective)


def make(config: dict[str, Any]):
    """The strategy object for a HyperParameterTuningJobConfig (checked by ``check``)."""
    space = Space(config.get("ParameterRanges") or {})
    seed = config.get("RandomSeed")
    strategy = config.get("Strategy", "Bayesian")
    if strategy == "Grid":
        return GridSearch(space, seed)
    if strategy == "Bayesian":
        minimize = config["HyperParameterTuningJobObjective"]["Type"] == "Minimize"
        return BayesianSearch(space, seed, minimize)
    return RandomSearch(space, seed)


def check(config: dict[str, Any]) -> int:
    """Raise AWS's ValidationException for a config it refuses; returns the number of trials."""
    strategy = config.get("Strategy")
    space = Space(config.get("ParameterRanges") or {})
    limits = config.get("ResourceLimits") or {}
    most, parallel = limits.get("MaxNumberOfTrainingJobs"), limits.get("MaxParallelTrainingJobs")
    if strategy == "Hyperband":
        raise validation("The Hyperband strategy is not simulated here: it stops trials early "
                         "from their intermediate metrics. Use strategy='Bayesian', 'Random' or "
                         "'Grid'.")
    if not space.names:
        raise validation("ParameterRanges names no hyperparameter to tune. Give the tuner at "
                         "least one range, e.g. {'learning-rate': ContinuousParameter(0.001, 0.1)}.")
    if strategy == "Grid":
        if space.numeric:
            raise validation("The Grid strategy supports only categorical parameters; "
                             f"'{space.numeric[0][0]}' is an {space.numeric[0][1][:-6]}. Use "
                             "CategoricalParameter([...]) for every range, or strategy='Random'.")
        total = space.combinations()
        if most is not None and most != total:
            raise validation(f"For the Grid strategy MaxNumberOfTrainingJobs must equal the "
                             f"number of distinct combinations of the categorical values, {total} "
                             f"(it is {most}). Leave max_jobs out and it is computed.")
        most = total
    if most is None:
        raise validation("ResourceLimits.MaxNumberOfTrainingJobs is required for the "
                         f"{strategy} strategy. Pass max_jobs=N to the tuner.")
    if strategy != "Grid" and all(kind != "ContinuousParameterRanges" for _, kind, *_ in space.numeric):
        total = space.combinations() * math.prod(int(hi) - int(lo) + 1 for _, _, lo, hi, _ in space.numeric)
        if total < most:  # AWS's own words (a ValidationException seen in the wild)
            raise validation("You don't have enough combinations of hyperparameter ranges. The total "
                             f"number of hyperparameter combinations for the provided ranges "
                             f"[{float(total)}] must be equal or greater than the value of "
                             f"MaxNumberOfJobs, [{most}]. Provide additional ranges, or lower max_jobs.")
    if parallel is not None and parallel > most:
        raise validation(f"MaxParallelTrainingJobs ({parallel}) cannot be greater than "
                         f"MaxNumberOfTrainingJobs ({most}). Lower max_parallel_jobs to at most "
                         "max_jobs, or raise max_jobs.")
    return most
