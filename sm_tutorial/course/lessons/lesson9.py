"""Lesson 9 exercises and helpers: deploy the digits model, predict, and delete the endpoint."""
from __future__ import annotations

import json

from ..exercises import Exercise, NotYet, require
from ...client.prices import PRICES_AS_OF, REGION, USD_PER_HOUR

HOURS_PER_MONTH = 30 * 24  # the lesson's month: 30 days of 24 hours


def validation_rows():
    """(images, labels) of the course's 359 validation digits: 64 pixels 0-16, labels 0-9."""
    import numpy as np
    from ..course_data import local_path
    rows = np.loadtxt(local_path("csv/validation.csv"), delimiter=",", skiprows=1)
    return rows[:, 1:], rows[:, 0].astype(int)


def delete_endpoint_and_friends(session, name: str) -> list[str]:
    """Delete the endpoint, endpoint config and model called ``name``, whichever exist
    (so a cell that deploys can run again); returns what was deleted, in that order."""
    sm = session.sagemaker_client
    deleted = []
    for kind, call, key in (("endpoint", sm.delete_endpoint, "EndpointName"),
                            ("endpoint config", sm.delete_endpoint_config, "EndpointConfigName"),
                            ("model", sm.delete_model, "ModelName")):
        try:
            call(**{key: name})
        except sm.exceptions.ClientError as error:
            message = error.response["Error"]["Message"]
            if "Could not find" in message or "not found" in message:
                continue  # already gone: what we wanted
            raise
        deleted.append(kind)
    return deleted


def endpoint_cost_line(instance_type: str, instance_count: int, hours: float) -> str:
    rate = USD_PER_HOUR[instance_type]
    return (f"{instance_count} x {instance_type} at ${rate:.3f}/hour ({REGION}, {PRICES_AS_OF}) "
            f"for {hours:g} hour{'s' if hours != 1 else ''}: ${rate * instance_count * hours:.2f}")


def _body(session, endpoint_name, body):
    images, _ = validation_rows()
    require(isinstance(body, (str, bytes)), "pass the body as a JSON string (json.dumps(...)): "
            "invoke_endpoint sends bytes, not a dict.")
    try:
        request = json.loads(body)
    except ValueError as error:
        raise NotYet(f"the body is not JSON ({error}); build it with json.dumps(...).")
    require(isinstance(request, dict) and "instances" in request,
            'TF Serving reads {"instances": [row, row]}: put the rows under "instances".')
    rows = request["instances"]
    require(isinstance(rows, list) and len(rows) == 2, f"send two rows; the body has "
            f"{len(rows) if isinstance(rows, list) else 'no list of'} rows.")
    require(all(isinstance(r, list) and len(r) == 64 for r in rows),
            "each row is one digit's 64 pixels (the label column left out), as a list.")
    def same(expected):
        return all(isinstance(a, (int, float)) and abs(a - b) < 1e-6
                   for got, want in zip(rows, expected.tolist()) for a, b in zip(got, want))
    if same(images[:2]):
        raise NotYet("the pixels are 0-16: divide by 16.0, as train.py did in training.")
    require(same(images[:2] / 16.0),
            "those are not the first two validation digits, scaled by 1/16 (images[:2] / 16.0).")
    runtime = session.boto_session.client("sagemaker-runtime")
    reply = runtime.invoke_endpoint(EndpointName=endpoint_name, Body=body,
                                    ContentType="application/json")
    predictions = json.loads(reply["Body"].read())["predictions"]
    classes = [max(range(10), key=p.__getitem__) for p in predictions]
    return f"the endpoint answered {len(predictions)} rows of 10 probabilities: digits {classes}."


def _monthly(instance_type, instance_count, monthly_usd):
    require(instance_type in USD_PER_HOUR, f"{instance_type!r} is not in the course's price "
            "table (sm_tutorial.client.prices.USD_PER_HOUR).")
    require(isinstance(monthly_usd, (int, float)) and not isinstance(monthly_usd, bool),
            "give the cost as a number of dollars.")
    rate = USD_PER_HOUR[instance_type]
    truth = rate * instance_count * HOURS_PER_MONTH
    if abs(monthly_usd - rate * HOURS_PER_MONTH) < 0.01 and instance_count != 1:
        raise NotYet(f"that is one instance; the endpoint runs {instance_count}, and each bills.")
    if abs(monthly_usd - rate * instance_count * 24) < 0.01:
        raise NotYet("that is one day; a month here is 30 days.")
    if abs(monthly_usd - rate * instance_count) < 0.01:
        raise NotYet("that is one hour; an idle endpoint bills every hour it exists.")
    require(abs(monthly_usd - truth) < 0.01, f"${monthly_usd:.2f} is not it: price per "
            f"instance-hour x instances x {HOURS_PER_MONTH} hours.")
    return (f"${truth:.2f} a month for answering nothing: delete endpoints you are not using.")


q1 = Exercise("a request body for two digits", _body,
              'json.dumps({"instances": ...}) with images[:2] / 16.0 turned into lists (.tolist()).',
              'body = json.dumps({"instances": (images[:2] / 16.0).tolist()})')
q2 = Exercise("the bill of an idle endpoint", _monthly,
              "USD_PER_HOUR[instance_type] is per instance and per hour; every instance bills, "
              "every hour of 30 days.",
              "monthly_usd = USD_PER_HOUR[IDLE_TYPE] * IDLE_COUNT * 30 * 24")
