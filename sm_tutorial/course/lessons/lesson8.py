"""Lesson 8: scaling out. Where multi-instance jobs run, what each host saw (read back from the
hosts' own log lines), what a job costs, and the lesson's exercises."""
from __future__ import annotations

import json
import re

from ..course_data import PREFIX
from ..exercises import Exercise, finished_job, require

# The probe script prints one line per host, ``HOST {...}``: what the host was told and given.
PROBE = '''\
import json, os
channels = json.loads(os.environ["SM_CHANNELS"])
print("HOST", json.dumps({
    "SM_CURRENT_HOST": os.environ["SM_CURRENT_HOST"],
    "SM_HOSTS": os.environ["SM_HOSTS"],
    "TF_CONFIG": os.environ.get("TF_CONFIG"),   # set only for distribution=...
    "channels": {c: sorted(os.listdir(os.environ["SM_CHANNEL_" + c.upper()])) for c in channels},
}))
'''

# Exercise 2 asks which host of a 3-host job read this file of the sharded channel.
ASKED_FILE = "digits-train-0003-of-0004.tfrecord"
# Exercise 3's job: COST_HOSTS instances of COST_TYPE training for COST_MINUTES minutes.
COST_HOSTS, COST_TYPE, COST_MINUTES = 4, "ml.c5.2xlarge", 30


def why_not_here(session=None) -> str | None:
    """None where multi-instance jobs run (always on AWS), else why not (macOS, no user
    namespaces, ...): CreateTrainingJob refuses instance_count > 1 there."""
    from ...client.sdk import simulated
    if not simulated():
        return None
    from ...platform import cluster
    return cluster.unavailable()


def hosts_here() -> bool:
    """True where multi-instance jobs run; else prints why the cell is skipped."""
    problem = why_not_here()
    if problem:
        print("skipped: this machine runs no multi-instance jobs (the Setup cell says why); "
              "read on, the text says what this cell shows.")
    return problem is None


def hosts_seen(session, job_name: str) -> dict:
    """``{host: what it printed}`` from the ``HOST {...}`` lines of a probe job's log, in host order."""
    from ...client.logs import job_logs
    seen = {}
    for line in job_logs(session, job_name).splitlines():
        if line.startswith("HOST {"):
            info = json.loads(line[5:])
            seen[info["SM_CURRENT_HOST"]] = info
    return dict(sorted(seen.items(), key=lambda item: int(item[0].rsplit("-", 1)[1])))


def lines_of(session, job_name: str, host: str) -> list[str]:
    """The lines a host's script printed with its name in front (``algo-2: ...``)."""
    from ...client.logs import job_logs
    return [line for line in job_logs(session, job_name).splitlines()
            if line.startswith(host + ": ")]


def job_cost(session, job_name: str) -> dict:
    """What a finished job would cost on AWS: billable seconds x instances x the hourly price."""
    from ...client import prices
    d = session.describe_training_job(job_name)
    resources = d["ResourceConfig"]
    count, kind = resources["InstanceCount"], resources["InstanceType"]
    seconds = d.get("BillableTimeInSeconds", 0)
    rate = prices.USD_PER_HOUR.get(kind)
    return {"hosts": count, "instance_type": kind, "billable_s": seconds,
            "instance_s": seconds * count, "usd": None if rate is None else seconds * count * rate / 3600}


# -- exercises -----------------------------------------------------------------------------
def _sharded_input(session, training_input):
    config = getattr(training_input, "config", None)
    require(isinstance(config, dict), "pass a sagemaker.inputs.TrainingInput object.")
    source = config["DataSource"]["S3DataSource"]
    uri = source["S3Uri"]
    want = f"s3://{session.default_bucket()}/{PREFIX}/train"
    require(uri.rstrip("/") == want, f"the S3 prefix {uri} is not the digits train prefix: "
            "use data['train'], the URI upload_digits returned.")
    kind = source.get("S3DataDistributionType")
    require(kind == "ShardedByS3Key", f"S3DataDistributionType is {kind!r}: every host would get "
            "every file. Ask for each host's share: distribution='ShardedByS3Key'.")
    return "ShardedByS3Key: each host gets about 1/N of the objects, no two hosts the same one."


def _short(names: list) -> str:
    return ", ".join(names) if names else "nothing"


def _which_host(session, job_name, answer):
    d = finished_job(session, job_name)
    require(d["ResourceConfig"]["InstanceCount"] == 3,
            f"job {job_name} ran on {d['ResourceConfig']['InstanceCount']} instance(s); pass the "
            "3-host probe job's name (job3).")
    kinds = {c["ChannelName"]: c["DataSource"]["S3DataSource"].get("S3DataDistributionType")
             for c in d.get("InputDataConfig", [])}
    require(kinds.get("sharded") == "ShardedByS3Key",
            "that job has no ShardedByS3Key channel named 'sharded': pass the 3-host probe job.")
    seen = hosts_seen(session, job_name)
    require(isinstance(answer, str) and answer in seen,
            f"{answer!r} is not one of the job's hosts; answer with a host name: "
            f"{', '.join(repr(h) for h in seen)}.")
    holders = [h for h, info in seen.items() if ASKED_FILE in info["channels"]["sharded"]]
    got = seen[answer]["channels"]["sharded"]
    require(answer in holders, f"{answer}'s sharded channel held {_short(got)}; "
            f"find {ASKED_FILE} in the other hosts' rows.")
    return (f"{ASKED_FILE} went to {answer} alone: with ShardedByS3Key each object goes to "
            "exactly one host, and the script reads whatever its channel holds.")


def _cost(answer):
    from ...client.prices import USD_PER_HOUR
    rate = USD_PER_HOUR[COST_TYPE]
    right = COST_HOSTS * rate * COST_MINUTES / 60
    require(isinstance(answer, (int, float)) and not isinstance(answer, bool),
            "give the cost in US dollars, a number such as 1.23.")
    close = lambda value: abs(answer - value) < 0.006  # noqa: E731
    require(not close(rate * COST_MINUTES / 60),
            f"${answer:.2f} is one instance; each of the {COST_HOSTS} instances is billed.")
    require(not close(COST_HOSTS * rate),
            f"${answer:.2f} is a full hour; the job trains {COST_MINUTES} minutes.")
    require(not close(COST_HOSTS * rate * COST_MINUTES),
            f"${answer:.2f} prices minutes at the hourly rate: {COST_MINUTES} minutes are "
            f"{COST_MINUTES / 60:g} hours.")
    require(close(right), f"${answer:.2f} is not it: multiply instances x hourly price x hours.")
    return (f"{COST_HOSTS} x ${rate}/hour x {COST_MINUTES / 60:g} h = ${right:.2f}: N instances "
            "cost N times one, for as long as the job runs.")


q1 = Exercise("a sharded channel", _sharded_input,
              "TrainingInput(s3_data, distribution=...): the default, 'FullyReplicated', copies "
              "everything to every host.",
              "TrainingInput(data['train'], distribution='ShardedByS3Key')\n"
              "q1.check(sess, my_input)")
q2 = Exercise("which host read it", _which_host,
              f"Find {ASKED_FILE} in the 'sharded' row of the 3-host view above.",
              "host = 'algo-1'  # the 4 sorted keys are dealt in turn: 0000 -> algo-1, 0001 -> "
              "algo-2, 0002 -> algo-3, 0003 -> algo-1")
q3 = Exercise("what N instances cost", _cost,
              f"instances x USD_PER_HOUR['{COST_TYPE}'] x hours (minutes / 60).",
              f"cost = {COST_HOSTS} * USD_PER_HOUR['{COST_TYPE}'] * {COST_MINUTES} / 60")


def short_names(names: list[str]) -> tuple[list[str], str]:
    """File names with their shared prefix and suffix cut at a separator:
    ``(['0000', '0002'], 'digits-train-NNNN-of-0004.tfrecord')``."""
    if len(set(names)) < 2:
        return list(names), ""
    first, last = min(names), max(names)
    prefix = first[:next((i for i, (a, b) in enumerate(zip(first, last)) if a != b), len(first))]
    prefix = prefix[:max(prefix.rfind(s) for s in "-_.") + 1] if re.search(r"[-_.]", prefix) else ""
    tails = [n[len(prefix):] for n in names]
    suffix = tails[0]
    for tail in tails[1:]:
        while not tail.endswith(suffix):
            suffix = suffix[1:]
    cut = min((suffix.find(s) for s in "-_." if s in suffix), default=len(suffix))
    suffix = suffix[cut:]
    middles = [t[:len(t) - len(suffix)] if suffix else t for t in tails]
    if not all(middles):
        return list(names), ""
    return middles, prefix + "N" * max(map(len, middles)) + suffix
