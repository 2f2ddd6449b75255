"""A Celery application that loads the settings rendered by `celery-tls render`.

    celery-tls render --manifest outputs.json --output celeryconfig.py
    python3 -m celery -A tasks worker -P prefork --loglevel=INFO

Importing celeryconfig raises CeleryTLSConfigError before anything connects when the settings would be plaintext or
unverified (for example a stale CELERY_BROKER_URL=amqp://... in the environment).
"""
from celery import Celery

app = Celery("tasks")
app.config_from_object("celeryconfig")


@app.task(acks_late=True)
def add(x, y):
    # acks_late redelivers a task whose worker died: tasks must be idempotent.
    return x + y
