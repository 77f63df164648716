"""sm-tutorial: learn SageMaker training jobs with the real SDK, no AWS account, no Docker.

    import sm_tutorial
    sess = sm_tutorial.session()          # a real sagemaker.Session (simulated by default)
    role = sm_tutorial.role()
    data = sm_tutorial.upload_digits(sess)
"""
from .course_data import local_path, upload_digits
from .sdk import endpoint_url, role, session
from .workspace import cleanup_jobs, job_root, workspace

__version__ = "0.1.0"
__all__ = ["session", "role", "endpoint_url", "upload_digits", "local_path", "workspace",
           "job_root", "cleanup_jobs", "__version__"]
