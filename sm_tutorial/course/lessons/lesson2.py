"""Lesson 2 exercises: parsing hyperparameters the way they really arrive."""
from ...container import arguments
from ..exercises import Exercise, NotYet, require

CASES = [
    ({"epochs": 3, "use-bn": False, "layers": [128, 64], "dropout": 0.25},
     {"epochs": 3, "use_bn": False, "layers": [128, 64], "dropout": 0.25}),
    ({"epochs": 10, "use-bn": True, "layers": [32], "dropout": 0.0},
     {"epochs": 10, "use_bn": True, "layers": [32], "dropout": 0.0}),
]


def argv_for(hps):
    """The command line the toolkit builds from a framework estimator's hyperparameters."""
    import json
    wire = {k: json.dumps(v) for k, v in hps.items()}
    wire["model_dir"] = json.dumps("s3://bucket/job/model")  # the TensorFlow estimator adds it
    return arguments.to_cmd_args(arguments.user_hyperparameters(wire))


def _parser(parse_args):
    require(callable(parse_args), "pass your parse_args function itself (no parentheses).")
    for hps, expected in CASES:
        argv = argv_for(hps)
        try:
            parsed = vars(parse_args(argv))
        except SystemExit:
            raise NotYet(f"argparse rejected {argv}: a flag that receives a value cannot be "
                         "store_true, and unknown arguments such as --model_dir need "
                         "parse_known_args.")
        for key, want in expected.items():
            got = parsed.get(key)
            require(got == want and type(got) is type(want),
                    f"for argv {argv} you parsed {key}={got!r} ({type(got).__name__}); "
                    f"it should be {want!r} ({type(want).__name__}).")
    return "booleans, lists and numbers all arrive as text; your parser turns them back."


def _env_value(answer):
    want = '{"a":1,"b":[2,3]}'
    require(isinstance(answer, str), "answer with the exact string, e.g. '...'.")
    require(answer.replace(" ", "") == want.replace(" ", "") or answer == want,
            "SM_HP_* holds JSON for anything that is not a string: compact, keys sorted.")
    require(answer == want, "close: the toolkit writes compact JSON, with no spaces.")
    return "non-string values are compact, key-sorted JSON in SM_HP_* (and str() on argv)."


q1 = Exercise("a parser that survives the trip", _parser,
              "argparse's type=bool turns any non-empty text, even 'False', into True. Compare "
              "the text instead; read lists with ast.literal_eval (the toolkit prints them with "
              "str()); use parse_known_args for the arguments you do not declare.",
              "def parse_args(argv):\n"
              "    p = argparse.ArgumentParser()\n"
              "    p.add_argument('--epochs', type=int)\n"
              "    p.add_argument('--use-bn', type=lambda s: s.lower() == 'true')\n"
              "    p.add_argument('--layers', type=ast.literal_eval)\n"
              "    p.add_argument('--dropout', type=float)\n"
              "    return p.parse_known_args(argv)[0]")
q2 = Exercise("read SM_HP_*", _env_value,
              "Look at the SM_HP_ lines the explorer prints for a dict value.",
              "'{\"a\":1,\"b\":[2,3]}'")
