"""``rehab bench fleet``: N home hubs uploading once a minute while dashboards are read.

A scratch database on the configured server gets N patients, each with its own device and device
token (bulk COPY, tokens hashed with :func:`service.auth.hash_token` as pairing does, so they
really authenticate), in care teams of ``team_size`` patients with one clinician each (an access
token that is also the web session cookie). Unless ``--no-prefill``, every patient then gets
today's minute rollups from midnight up to the provisioning minute and 30 days of stored
summaries (:mod:`service.bench.fleet.prefill`), so that a refresh of today and the dashboards read
realistic days. ``--serve-processes`` ``rehab serve`` replicas on their own ports (each with its
built-in worker), ``--page-processes`` more for the web pages alone (without the worker) and
``--workers`` separate ``rehab worker`` processes then run on it, and this process drives them
(uploads and days requests spread over the serve replicas round-robin, the ``/team`` page over the
page replicas, as the proxy of deploy/compose.yaml routes them):

- **Hubs.** Each hub uploads one batch per period (60 s) through ``POST /v1/ingest`` with its own
  token: the last period's heart rate at 1 Hz and its steps as one sample, at the real times, so
  today's patient-day is dirtied. The values replay the worn minutes of a simulated day
  (:func:`analysis.simulate.simulate_days`; heart rate interpolated to 1 Hz), from a seeded
  offset; each hub has its own seeded phase within the period plus up to 5 s of jitter. Bodies
  are encoded with the :mod:`wire` structs; the 60 time strings are shared by all hubs.
- **Dashboards.** ``--dashboard-rps`` requests per second on a fixed schedule:
  ``GET /v1/patients/{id}/days`` of a random patient with its team's clinician token and, a
  ``--team-share`` of them (a tenth by default), the ``/team`` page of a random team with its
  clinician's session cookie. Latency counts from the scheduled send time (a slow response also
  charges the requests it held up). The same mix runs first on the idle service (the baseline,
  same run). The goal's "API p99" is the days route's; the page is printed beside it.
- **Staleness.** Every 2 s the poller reads the summaries stored since its last look. A summary
  includes a batch when its ``wear_minutes`` and ``steps`` reach what the patient-day had with
  that batch (every uploaded and prefilled minute carries heart rate, so it is worn; steps,
  the prefilled ones included, add up exactly).
  The worker recomputes today's summary at most every ``worker_today_interval_s`` (60 s), much
  longer than the poll, so every stored version is seen. Staleness is the summary's
  ``computed_at`` minus the time the upload was accepted.
- **CPU** of each process over the fleet's minutes (psutil): each ``rehab serve``, each worker, the
  scratch database's PostgreSQL backends taken together, and this load generator.

The HTTP client is a minimal keep-alive HTTP/1.1 client over asyncio streams with bounded pools
of connections (:mod:`service.bench.http`).
"""

from service.bench.fleet.drive import run
from service.bench.fleet.options import FleetOptions
from service.bench.fleet.prefill import Prefill, prefill
from service.bench.fleet.provision import Fleet, provision
from service.bench.fleet.results import FleetResult

__all__ = ["Fleet", "FleetOptions", "FleetResult", "Prefill", "prefill", "provision", "run"]
