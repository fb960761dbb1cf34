"""Gunicorn settings for production-like serving (`make serve`, `make bench`).

Sized from the CPU count; every knob can be overridden from the environment. The database
pool of each worker is sized to its threads, so workers × threads connections at most stay
under PostgreSQL's max_connections (100 by default: 5 workers × 4 threads = 20 here).
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"

# A request that waits for a database connection gets its 503 after DB_POOL_TIMEOUT (5 s),
# well before the worker timeout below would kill the worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then so no slow leak grows without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10

accesslog = "-"
# gunicorn's default format without %(u)s, which decodes `Authorization: Basic` credentials:
# a client that sends its API key Stripe-style (`curl -u sk_live_…:`) gets a 401, and its key
# must not land in the access log on the way.
# Behind deploy/serve.py's nginx (TRUSTED_PROXY_COUNT=1) the client is the address nginx saw.
client = "%({x-forwarded-for}i)s" if int(os.environ.get("TRUSTED_PROXY_COUNT", "0")) else "%(h)s"
access_log_format = client + ' %(l)s - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn refuses a header field past this many bytes with its own HTML 431, before the app
# can answer in JSON; its default (8190) is below a 10 KB API key, which must get the JSON 401.
limit_request_field_size = 16384
# Only our own proxy may set X-Forwarded-*; the app decides what to trust (TRUSTED_PROXY_COUNT).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# One pooled connection per thread: never more connections than can be used at once.
os.environ.setdefault("DB_POOL_MAX_SIZE", str(threads))
