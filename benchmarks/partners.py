"""Benchmark of the partner pages at scale: timings and SQL counts per page.

    .venv/bin/python benchmarks/partners.py --partners 5000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/openprm_bench \
        .venv/bin/python benchmarks/partners.py --partners 5000

Without DATABASE_URL it works in a throw-away SQLite file; with one, on that database (which it
migrates and seeds: use a scratch database).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    if "DATABASE_URL" not in os.environ:
        os.environ["PRM_VAR_DIR"] = tempfile.mkdtemp(prefix="openprm-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from partners.models import PartnerAccount
    from partners.services import sync_account_permissions
    from prm.celery import app

    app.conf.task_always_eager = True  # no worker here: run follow-up tasks inline
    print(f"database: {connection.vendor}, partners: {args.partners}")
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    call_command("seed_demo", partners=args.partners, verbosity=0)
    print(f"seed_demo --partners {args.partners}: {time.perf_counter() - started:.1f} s")

    ids = list(PartnerAccount.objects.values_list("pk", flat=True))
    started = time.perf_counter()
    sync_account_permissions(ids)
    print(
        f"sync_account_permissions over {len(ids)} accounts: "
        f"{(time.perf_counter() - started) * 1000:.0f} ms"
    )

    northwind = PartnerAccount.objects.get(name="Northwind Systems").pk
    pages = [
        ("admin@openprm.example", "partner list, page 1", "/partners/"),
        ("admin@openprm.example", "partner list, page 150", "/partners/?page=150"),
        ("admin@openprm.example", "partner list, search", "/partners/?q=secure&region=emea"),
        ("admin@openprm.example", "partner list, sort by manager", "/partners/?sort=manager"),
        ("admin@openprm.example", "CSV export (all)", "/partners/export.csv"),
        ("admin@openprm.example", "partner detail", f"/partners/{northwind}/"),
        ("maya.manager@openprm.example", "my partners, page 1", "/partners/"),
        ("maya.manager@openprm.example", "my partners, page 40", "/partners/?page=40"),
        ("alex.admin@northwind.example", "portal home", "/portal/"),
        ("alex.admin@northwind.example", "company profile", f"/partners/{northwind}/"),
    ]
    clients: dict[str, Client] = {}
    print(f"\n{'page':34} {'median ms':>10} {'max ms':>8} {'queries':>8} {'status':>7}")
    for email, label, url in pages:
        client = clients.get(email)
        if client is None:
            from django.contrib.auth import get_user_model

            client = clients[email] = Client()
            client.force_login(get_user_model().objects.get(email=email))
        client.get(url)  # warm up
        timings = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                if hasattr(response, "streaming_content"):
                    b"".join(response.streaming_content)
                timings.append((time.perf_counter() - started) * 1000)
        print(
            f"{label:34} {statistics.median(timings):10.1f} {max(timings):8.1f} "
            f"{len(queries):8d} {response.status_code:7d}"
        )


if __name__ == "__main__":
    main()
