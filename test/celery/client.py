"""Drives the task service's Celery ingress with the real Celery 5 client.

    python3 client.py plan '<json list of calls>'   -> one JSON line: the outcome of each call
    python3 client.py revoke                        -> a running sleep task revoked with terminate=True
    python3 client.py volume N THREADS              -> N .delay() calls from THREADS threads, then every result
    python3 client.py send '<json list of calls>'   -> the calls sent, not waited for: their ids
    python3 client.py produce N                     -> N .delay() calls, not waited for: their ids

A call is {"via": "delay"|"send_task", "task": name, "args": [...], "kwargs": {...},
"options": {...apply_async options}, "timeout": s}.
"""
import json
from datetime import datetime, timezone
import sys
import threading
import time

from app.tasks import celery as tasks
from app.tasks.celery import celery_app

STUBS = {t.name: t for t in celery_app.tasks.values()}
FINAL = (b'"SUCCESS"', b'"FAILURE"', b'"REVOKED"')


def outcome(result, timeout):
    value = result.get(timeout=timeout, propagate=False)
    out = {"id": result.id, "state": result.state}
    if isinstance(value, BaseException):
        out["exception"] = {
            "type": type(value).__name__,
            "module": type(value).__module__,
            "args": [str(a) for a in value.args],
        }
    else:
        out["result"] = value
    return out


def send(call):
    options = dict(call.get("options", {}))
    if call.get("link"):
        options["link"] = STUBS[call["link"]].s()
    if call["via"] == "delay" and not options:
        return STUBS[call["task"]].delay(*call.get("args", []), **call.get("kwargs", {}))
    if call["via"] in ("delay", "apply_async"):
        return STUBS[call["task"]].apply_async(call.get("args", []), call.get("kwargs", {}), **options)
    return celery_app.send_task(call["task"], call.get("args", []), call.get("kwargs", {}), **options)


def plan(calls):
    sent = []
    for call in calls:
        started = time.time()
        sent.append((call, send(call), started))
    out = []
    for call, result, started in sent:
        o = outcome(result, call.get("timeout", 30))
        o["elapsed"] = time.time() - started
        out.append(o)
    return out


def revoke():
    result = tasks.sleep.delay(60_000)
    deadline = time.time() + 30
    while result.state != "STARTED":
        if time.time() > deadline:
            raise SystemExit(f"never STARTED: {result.state}")
        time.sleep(0.05)
    started = time.time()
    celery_app.control.revoke(result.id, terminate=True, signal="SIGTERM")
    o = outcome(result, 30)
    o["revoked_after"] = time.time() - started
    return o


def volume(n, threads):
    ids = [[] for _ in range(threads)]

    def produce(slot, count):
        for i in range(count):
            ids[slot].append(tasks.noop.delay(i=slot * n + i).id)

    started = time.time()
    workers = [threading.Thread(target=produce, args=(t, n // threads)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    enqueued = time.time()
    all_ids = [i for chunk in ids for i in chunk]
    client = celery_app.backend.client
    keys = [celery_app.backend.get_key_for_task(i) for i in all_ids]
    # A sliding window of 500 keys (as the Celery peer's bench): polling all 10,000 every time would
    # cost the broker and this client more than the work measured.
    deadline = time.time() + 600
    pending = list(keys)
    while pending and time.time() < deadline:
        window = pending[:500]
        values = client.mget(window)
        left = [k for k, v in zip(window, values) if v is None or not any(s in v for s in FINAL)]
        pending = left + pending[500:]
        if len(left) == len(window):
            time.sleep(0.05)
    states = {}
    last_done = 0.0
    for raw in client.mget(keys):
        meta = json.loads(raw) if raw else {"status": "MISSING"}
        states[meta["status"]] = states.get(meta["status"], 0) + 1
        if meta.get("date_done"):
            done = datetime.fromisoformat(meta["date_done"]).replace(tzinfo=timezone.utc).timestamp()
            last_done = max(last_done, done)
    return {
        "n": len(all_ids),
        "unique_ids": len(set(all_ids)),
        "states": states,
        "enqueue_s": enqueued - started,
        "e2e_s": (last_done or time.time()) - started,
        "ids": all_ids,
    }


def produce(n):
    return [tasks.noop.delay(i=i).id for i in range(n)]


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "plan":
        print(json.dumps(plan(json.loads(sys.argv[2]))))
    elif command == "revoke":
        print(json.dumps(revoke()))
    elif command == "send":
        print(json.dumps([send(call).id for call in json.loads(sys.argv[2])]))
    elif command == "produce":
        print(json.dumps(produce(int(sys.argv[2]))))
    elif command == "volume":
        print(json.dumps(volume(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        raise SystemExit(f"unknown command {command}")
