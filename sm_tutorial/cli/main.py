"""The `sm-tutorial` command (also `python -m sm_tutorial`)."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

from .. import settings

LANGUAGES = ("en", "ko")  # as sm_tutorial.course.learner.LANGUAGES (kept light: no import at start)


def cmd_lab(args) -> int:
    from .lab import lab_command
    notebook_dir = args.notebook_dir
    if notebook_dir is None:  # the learner's own copies, kept in the workspace
        from ..course.learner import edition, reset_lesson, sync_workspace, workspace_folder
        source, notebook_dir = edition(args.lang), workspace_folder(args.lang)
        if args.reset:
            try:
                fresh, backup = reset_lesson(args.reset, notebook_dir, source)
            except ValueError as error:  # no such lesson: say which exist
                print(error, file=sys.stderr)
                return 2
            print(f"Lesson {fresh.stem} starts over" +
                  (f"; your previous copy is in backups/{backup.name}." if backup else "."))
        report = sync_workspace(notebook_dir, source)
        if report["copied"]:
            print(f"Copied {len(report['copied'])} new file(s) into {notebook_dir}.")
        for name in report["kept"]:
            if name.endswith(".ipynb"):
                lang = "" if args.lang == "en" else f" --lang {args.lang}"
                print(f"Kept your edited {name} (sm-tutorial lab{lang} --reset {name[:2]} starts it over).")
    elif args.reset or args.lang != "en":
        print("--reset and --lang work on the learner copies; leave out --notebook-dir.", file=sys.stderr)
        return 2
    argv = lab_command(Path(notebook_dir), port=args.port, open_browser=not args.no_browser,
                       expose_app=args.expose_app)
    print(f"Opening the course in JupyterLab (mode: {settings.mode()}). Ctrl-C stops it.", flush=True)
    os.execv(argv[0], argv)


def cmd_learner_copy(args) -> int:
    from ..course.learner import edition, write_learner_copy
    written = write_learner_copy(Path(args.dest), edition(args.lang))
    lessons = sum(p.suffix == ".ipynb" for p in written)
    print(f"Wrote {lessons} lessons with their answers blanked (and {len(written) - lessons} "
          f"other files) to {args.dest}.")
    return 0


def cmd_doctor(args) -> int:
    from .doctor import check_all, report
    text, code = report(check_all())
    print(text)
    if args.aws:
        from ..client.aws_mode import preflight
        print("\nAWS preflight (for live demos):")
        results = preflight()
        for ok, line in results:
            print(f"{'ok ' if ok else 'FIX'}  {line}")
        code = code or (0 if all(ok for ok, _ in results) else 1)
    return code


def cmd_cleanup(args) -> int:
    from ..client.aws_mode import cleanup
    from ..client.sdk import session
    if args.aws:
        cleanup(session(mode="aws"), dry_run=args.dry_run)
    else:
        from ..client.local_jobs import cleanup_jobs
        removed = cleanup_jobs()
        print(f"Removed {len(removed)} finished job folder(s) from the workspace.")
    return 0


def cmd_serve(args) -> int:
    from ..platform.endpoint import Endpoint
    endpoint = Endpoint(port=args.port).start()
    print(f"Local AWS stand-in (S3, CloudWatch Logs, SageMaker) on {endpoint.url} (workspace {endpoint.workspace}).")
    print(f"Attach notebooks and tools with:\n  export {settings.ENDPOINT_ENV}={endpoint.url}\n"
          f"  export AWS_ENDPOINT_URL={endpoint.url}\nCtrl-C stops it (its buckets live in memory "
          "and go with it).", flush=True)
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    try:
        while not stop:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    endpoint.stop()
    return 0


def _sagemaker_client():
    from ..client.sdk import session
    return session().sagemaker_client


def _page_size(text: str) -> int:
    """--limit: ListTrainingJobs' MaxResults range, read from AWS's model."""
    from ..platform.shapes import model
    low, high = (model().shape_for("MaxResults").metadata[k] for k in ("min", "max"))
    value = int(text)
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"{value} is outside {low}-{high} (the most AWS lists "
                                         "in one call); e.g. --limit 20")
    return value


def cmd_jobs(args) -> int:
    client = _sagemaker_client()
    jobs = client.list_training_jobs(SortBy="CreationTime", SortOrder="Descending",
                                     MaxResults=args.limit)["TrainingJobSummaries"]
    if not jobs:
        print("No training jobs yet.")
    for job in jobs:
        print(f"{job['TrainingJobName']:<60} {job['TrainingJobStatus']:<11} "
              f"{job['CreationTime']:%Y-%m-%d %H:%M:%S}")
    return 0


def cmd_logs(args) -> int:
    folder = settings.workspace() / "jobs" / args.job
    log_file = folder / f"{args.host or 'algo-1'}.log"
    others = sorted(folder.glob("algo-*.log"), key=lambda p: int(p.stem.split("-")[1]))[1:]
    if not args.host and others and log_file.exists():  # a multi-instance job: every host's log
        for path in [log_file] + others:
            print(f"==> {path.stem} <==\n{path.read_text()}", end="")
        return 0
    if os.environ.get(settings.ENDPOINT_ENV) or not log_file.exists():
        from ..client.logs import job_logs
        from ..client.sdk import session
        text = job_logs(session(), args.job)
        if not text:
            print(f"No logs for job {args.job!r}.", file=sys.stderr)
            return 1
        print(text)
        return 0
    print(log_file.read_text(), end="")
    return 0


def cmd_train(args) -> int:
    from sagemaker import image_uris
    from sagemaker.estimator import Estimator
    from ..client.sdk import role, session
    sess = session()
    hps = {}
    for item in args.hyperparameter:
        key, _, value = item.partition("=")
        try:
            hps[key] = json.loads(value)
        except ValueError:
            hps[key] = value
    inputs = {}
    for item in args.channel:
        name, _, where = item.partition("=")
        inputs[name] = where if where.startswith("s3://") else sess.upload_data(
            where, key_prefix=f"sm-tutorial/cli-channels/{name}")
    # The generic Estimator with a TensorFlow image: unlike the TensorFlow estimator it adds
    # no --model_dir argument, so any script runs as written.
    image = image_uris.retrieve("tensorflow", sess.boto_region_name, version="2.16",
                                py_version="py310", instance_type=args.instance_type,
                                image_scope="training")
    estimator = Estimator(entry_point=args.entry_point, source_dir=args.source_dir,
                          image_uri=image, role=role(), instance_type=args.instance_type,
                          instance_count=1, hyperparameters=hps, sagemaker_session=sess,
                          max_run=args.max_run, disable_profiler=True)
    try:
        estimator.fit(inputs or None, logs=True)
    except Exception as error:  # UnexpectedStatusException carries the FailureReason
        print(f"\n{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"\nModel artifacts: {estimator.model_data}")
    print(f"Container root:  {settings.workspace() / 'jobs' / estimator.latest_training_job.name / 'opt' / 'ml'}")
    return 0


def cmd_image(args) -> int:
    """sm-tutorial image add NAME FOLDER | list | remove NAME: bring your own image."""
    from ..platform import images
    workspace = settings.workspace()
    try:
        if args.action == "add":
            print(f"Registering {args.folder} as image {args.name} (installing requirements.txt "
                  "if any)...", file=sys.stderr, flush=True)
            print(images.add(workspace, args.name, Path(args.folder)))
        elif args.action == "remove":
            images.remove(workspace, args.name)
            print(f"Removed image {args.name}.")
        else:
            names = images.names(workspace)
            for name in names:
                print(f"{name:<30} {images.uri(name)}")
            if not names:
                print("No images yet: sm-tutorial image add NAME FOLDER registers one.")
    except images.ImageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sm-tutorial", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("lab", help="open the course in JupyterLab")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--no-browser", action="store_true")
    p.add_argument("--notebook-dir", default=None,
                   help="open this folder as is (default: your copies in the workspace)")
    p.add_argument("--reset", metavar="LESSON",
                   help="start a lesson over (number or name); the old copy goes to backups/")
    p.add_argument("--lang", choices=LANGUAGES, default="en",
                   help="the lessons' language: en (default) or ko, the Korean edition (한국어판), "
                        "kept in <workspace>/notebooks-ko")
    p.add_argument("--expose-app", action="store_true", help=argparse.SUPPRESS)  # browser tests
    p.set_defaults(func=cmd_lab)
    p = sub.add_parser("learner-copy", help="write the lessons with their answers blanked")
    p.add_argument("dest")
    p.add_argument("--lang", choices=LANGUAGES, default="en",
                   help="the lessons' language: en (default) or ko (the Korean edition)")
    p.set_defaults(func=cmd_learner_copy)
    p = sub.add_parser("doctor", help="check this machine and say what to fix")
    p.add_argument("--aws", action="store_true", help="also check the AWS account for a live demo")
    p.set_defaults(func=cmd_doctor)
    p = sub.add_parser("cleanup", help="remove finished jobs' folders (--aws: the course's AWS jobs and objects)")
    p.add_argument("--aws", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="with --aws: only list what would go")
    p.set_defaults(func=cmd_cleanup)
    p = sub.add_parser("serve", help="run the local AWS stand-in for several notebooks and the CLI")
    p.add_argument("--port", type=int, default=4566)
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("train", help="run a training job from a script folder, like fit()")
    p.add_argument("source_dir")
    p.add_argument("--entry-point", default="train.py")
    p.add_argument("--hyperparameter", "-p", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--channel", "-c", action="append", default=[], metavar="NAME=DIR_OR_S3_URI")
    p.add_argument("--instance-type", default="ml.m5.xlarge")
    p.add_argument("--max-run", type=int, default=3600)
    p.set_defaults(func=cmd_train)
    p = sub.add_parser("jobs", help="list training jobs")
    p.add_argument("--limit", type=_page_size, default=20)
    p.set_defaults(func=cmd_jobs)
    p = sub.add_parser("logs", help="print a job's logs")
    p.add_argument("job")
    p.add_argument("--host", help="one host's log (algo-N) of a multi-instance job; default: all")
    p.set_defaults(func=cmd_logs)
    p = sub.add_parser("image", help="bring your own image: a folder with an executable train")
    actions = p.add_subparsers(dest="action", required=True)
    a = actions.add_parser("add", help="register FOLDER as image NAME; prints its ECR-style URI")
    a.add_argument("name")
    a.add_argument("folder")
    actions.add_parser("list", help="the registered images and their URIs")
    a = actions.add_parser("remove", help="unregister image NAME")
    a.add_argument("name")
    p.set_defaults(func=cmd_image)
    args = parser.parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
