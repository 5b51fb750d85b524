"""The old system's Celery app (`app/tasks/celery.py` of the old guide), unchanged but for the
broker URL, which the test passes in: the e2e suite's callers use exactly this configuration.

The task bodies are the old caller-side stubs: callers only need the names and call shapes
(`.delay()`/`.apply_async()`); the task service runs them.
"""
import os

from celery import Celery

BROKER = os.environ.get("CELERY_BROKER_URL", "redis://localhost:6380/0")

celery_app = Celery("app", include=[])
celery_app.conf.update(
    broker_url=BROKER,  # Redis 代理
    result_backend=os.environ.get("CELERY_RESULT_BACKEND", BROKER),  # 结果存储
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    timezone="Asia/Shanghai",
    enable_utc=True,
    task_routes={
        "tasks.file.*": {"queue": "file_tasks"},
        "tasks.email.*": {"queue": "email_tasks"},
        "tasks.api.*": {"queue": "api_calls"},
        "tasks.credits.*": {"queue": "credits"},
        # 导出任务使用专用队列
        "tasks.file.export_file": {"queue": "export"},
    },
)
# `celery -A app.tasks.celery` looks for `app` or `celery` in the module.
app = celery_app


@celery_app.task(name="tasks.file.process_file", bind=False)
def process_file(file_id):
    raise NotImplementedError("runs in the task service")


@celery_app.task(name="tasks.file.analyze_file", bind=False)
def analyze_file(file_id):
    raise NotImplementedError("runs in the task service")


@celery_app.task(name="tasks.file.export_file", bind=False)
def export_file(file_ids, name=None):
    raise NotImplementedError("runs in the task service")


@celery_app.task(name="tasks.email.send_email", bind=True)
def send_email(self, to, subject, text=None, html=None, template=None, context=None):
    raise NotImplementedError("runs in the task service")


@celery_app.task(name="tasks.credits.grant", bind=True)
def grant(self, account_id, amount, reason=None):
    raise NotImplementedError("runs in the task service")


@celery_app.task(name="tasks.credits.consume", bind=True)
def consume(self, account_id, amount, reason=None):
    raise NotImplementedError("runs in the task service")


@celery_app.task(name="tasks.api.call", bind=True)
def api_call(self, method, url, headers=None, body=None):
    raise NotImplementedError("runs in the task service")


@celery_app.task(name="tasks.stats.collect", bind=True)
def collect(self, interval_minutes=None):
    raise NotImplementedError("runs in the task service")


@celery_app.task(name="tasks.system.noop")
def noop(*args, **kwargs):
    # A real body, the same as the service's, so the benchmark can run Celery's own worker on this app.
    return {"args": list(args), **kwargs}


@celery_app.task(name="tasks.system.sleep")
def sleep(ms, fail_times=None):
    raise NotImplementedError("runs in the task service")


@celery_app.task(name="tasks.system.fail")
def fail(message=None, unrecoverable=None):
    raise NotImplementedError("runs in the task service")
