"""Lesson 10 exercises: a tuning job's best trial, and what a spot job saved."""
from ..exercises import Exercise, NotYet, finished_job, require


def _trials(session, tuning_job_name):
    require(isinstance(tuning_job_name, str) and tuning_job_name, "pass the tuning job's name, a "
            "string (tuner.latest_tuning_job.name).")
    client = session.sagemaker_client
    try:
        tuning = client.describe_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=tuning_job_name)
    except Exception:
        raise NotYet(f"there is no tuning job named {tuning_job_name!r}; did tuner.fit() run?")
    require(tuning["HyperParameterTuningJobStatus"] in ("Completed", "Stopped"),
            f"tuning job {tuning_job_name} is {tuning['HyperParameterTuningJobStatus']}; "
            "wait for it to end (tuner.wait()).")
    trials, token = [], None
    while True:
        page = client.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=tuning_job_name, MaxResults=100,
            **({"NextToken": token} if token else {}))
        trials += page["TrainingJobSummaries"]
        token = page.get("NextToken")
        if not token:
            return tuning, trials


def _best_trial(session, tuning_job_name, best):
    tuning, trials = _trials(session, tuning_job_name)
    objective = tuning["HyperParameterTuningJobConfig"]["HyperParameterTuningJobObjective"]
    scored = {t["TrainingJobName"]: t["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
              for t in trials if t.get("ObjectiveStatus") == "Succeeded"}
    require(isinstance(best, str), "give the trial's name, a string from the TrainingJobName column.")
    require(best in {t["TrainingJobName"] for t in trials},
            f"{best!r} is not a trial of {tuning_job_name}: take a name from the "
            "TrainingJobName column of its dataframe.")
    require(best in scored, f"{best} has no final {objective['MetricName']}, so it cannot be best.")
    pick = max if objective["Type"] == "Maximize" else min
    winner = pick(scored, key=scored.get)
    require(scored[best] == scored[winner],
            f"{best} scored {objective['MetricName']}={scored[best]:.4f}, but another trial "
            f"scored {scored[winner]:.4f}. The objective is to {objective['Type']} it: sort the "
            "dataframe by FinalObjectiveValue in the right direction.")
    return (f"{best}, {objective['MetricName']}={scored[best]:.4f}, the best of "
            f"{len(trials)} trials (tuner.best_training_job() agrees).")


def _savings(session, job_name, savings_percent):
    d = finished_job(session, job_name)
    require(d.get("EnableManagedSpotTraining"), f"{job_name} is not a managed spot job: pass the "
            "spot job's name (spot.latest_training_job.name).")
    require(d["TrainingJobStatus"] == "Completed", f"{job_name} ended {d['TrainingJobStatus']}: "
            "run the spot job to the end first.")
    training, billable = d["TrainingTimeInSeconds"], d["BillableTimeInSeconds"]
    truth = 100 * (1 - billable / training)
    require(isinstance(savings_percent, (int, float)) and not isinstance(savings_percent, bool),
            "give the savings as a number of percent, e.g. 42.5.")
    if abs(savings_percent - 100 * billable / training) < 0.5 and abs(savings_percent - truth) >= 0.5:
        raise NotYet(f"{savings_percent:.1f} % is the share you pay (billable / training); "
                     "the savings are the rest.")
    require(0 <= savings_percent <= 100, "a saving is between 0 and 100 %.")
    require(abs(savings_percent - truth) < 0.5,
            f"{savings_percent:.1f} % is not this job's saving: compare BillableTimeInSeconds "
            f"with TrainingTimeInSeconds in its description.")
    return (f"{truth:.0f} % saved: {billable} billable of {training} training seconds "
            "(the SDK's 'Managed Spot Training savings' line says the same).")


q1 = Exercise("the best trial", _best_trial,
              "the objective is maximized: sort the dataframe by FinalObjectiveValue, highest "
              "first, and take that row's TrainingJobName.",
              "best = trials.sort_values('FinalObjectiveValue', ascending=False)"
              ".iloc[0]['TrainingJobName']")
q2 = Exercise("spot savings", _savings,
              "describe the spot job; savings = 100 * (1 - BillableTimeInSeconds / "
              "TrainingTimeInSeconds).",
              "d = sess.describe_training_job(spot_job)\n"
              "savings = 100 * (1 - d['BillableTimeInSeconds'] / d['TrainingTimeInSeconds'])")
