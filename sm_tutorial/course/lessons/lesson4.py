"""Lesson 4 exercises: channels and input modes."""
from ..course_data import PREFIX
from ..exercises import Exercise, finished_job, require


def _pipe_input(session, training_input):
    config = getattr(training_input, "config", None)
    require(isinstance(config, dict), "pass a sagemaker.inputs.TrainingInput object.")
    require(config.get("InputMode") == "Pipe",
            f"InputMode is {config.get('InputMode')!r}; this channel should stream (Pipe).")
    require(config.get("RecordWrapperType") == "RecordIO",
            "each object should arrive framed as a RecordIO record: record_wrapping='RecordIO'.")
    uri = config["DataSource"]["S3DataSource"]["S3Uri"]
    want = f"s3://{session.default_bucket()}/{PREFIX}/train"
    require(uri.rstrip("/") == want, f"the S3 prefix {uri} is not the digits train prefix: "
            "use data['train'], the URI upload_digits returned.")
    return "Pipe + RecordIO: objects stream through a FIFO, one framed record per object."


def _channel_fixed(session, job_name):
    d = finished_job(session, job_name)
    names = [c["ChannelName"] for c in d.get("InputDataConfig", [])]
    require(d["TrainingJobStatus"] == "Completed",
            f"the job failed: {d.get('FailureReason', '')[:160]} (channels sent: {names})")
    require(names == ["training"], f"channels sent: {names}; the script reads SM_CHANNEL_TRAINING.")
    return "the channel name in fit() decides the variable: 'training' -> SM_CHANNEL_TRAINING."


q1 = Exercise("a Pipe-mode channel", _pipe_input,
              "TrainingInput(s3_data, input_mode=..., record_wrapping=...)",
              "TrainingInput(data['train'], input_mode='Pipe', record_wrapping='RecordIO')\n"
              "q1.check(sess, my_input)")
q2 = Exercise("channel names", _channel_fixed,
              "The key of the dict you pass to fit() becomes the channel name, upper-cased in "
              "SM_CHANNEL_<NAME>.",
              "channel_name = 'training'")
