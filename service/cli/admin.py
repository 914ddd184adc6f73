"""``rehab user|team|patient|device|db``: bootstrap administration from the command line."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import typer
from psycopg import AsyncConnection
from pydantic import ValidationError

from service.accounts import (
    DEFAULT_TEAM,
    Role,
    add_team_member,
    create_user,
    ensure_team,
    find_team,
)
from service.audit import record_event
from service.cli.context import CliState, console, fail
from service.db import upgrade
from service.errors import NotFoundError
from service.notify import EMAIL_NEEDS_SMTP, TargetIn, add_target
from service.patients import PatientIn, add_device, add_patient, issue_enrollment_code
from service.secretbox import secret_box
from service.validators import parse_iso_date

_TEAM_HELP = f"Care team; it must exist (`rehab team create`). Default: {DEFAULT_TEAM!r}."

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Logins for clinicians, admins and patients.", no_args_is_help=True)
patient_app = typer.Typer(help="Patient records.", no_args_is_help=True)
device_app = typer.Typer(help="Home hubs bound to a patient.", no_args_is_help=True)
team_app = typer.Typer(
    help="Care teams, their members and where their alerts go.", no_args_is_help=True
)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Apply pending migrations to the configured (or embedded) database."""
    state: CliState = ctx.obj
    applied = upgrade(state.database_url(migrate=False))
    if applied:
        for m in applied:
            console.print(f"applied {m.version:04d}_{m.name}")
    else:
        console.print("the schema is up to date")


@user_app.command("create")
def user_create(
    ctx: typer.Context,
    email: Annotated[str, typer.Option(help="Login e-mail.")],
    role: Annotated[Role, typer.Option(help="clinician, admin or patient.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="At least 12 characters; prompted for when omitted (keeps it out of shell history).",
        ),
    ],
    team: Annotated[str | None, typer.Option(help=_TEAM_HELP)] = None,
    patient: Annotated[
        UUID | None, typer.Option(help="For --role patient: the patient record this login is.")
    ] = None,
) -> None:
    """Create a login."""
    state: CliState = ctx.obj

    async def work(conn: AsyncConnection[Any]) -> UUID:
        return await create_user(
            conn,
            email=email,
            password=password,
            role=role,
            team=DEFAULT_TEAM if team is None else team,
            patient_id=patient,
            team_must_exist=team is not None,
        )

    user_id = state.run(work)
    team = DEFAULT_TEAM if team is None else team
    console.print(f"created {role} {email} in team {team!r} (id {user_id})")


@patient_app.command("add")
def patient_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="Display name shown to the care team.")],
    birth_year: Annotated[int, typer.Option(help="Year of birth (for HRmax = 208 − 0.7·age).")],
    tz: Annotated[
        str, typer.Option(help="IANA time zone of the patient's home, e.g. Europe/Berlin.")
    ],
    surgery_type: Annotated[str, typer.Option(help="discectomy, laminectomy, fusion or other.")],
    surgery_date: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    approach: Annotated[str, typer.Option(help="open, minimally_invasive or endoscopic.")] = "open",
    team: Annotated[str | None, typer.Option(help=_TEAM_HELP)] = None,
) -> None:
    """Add a patient; prints the new patient id."""
    state: CliState = ctx.obj
    try:
        surgery_day = parse_iso_date(surgery_date, option="--surgery-date")
    except ValueError as exc:
        raise fail(str(exc), code=2) from None
    try:
        patient = PatientIn.model_validate(
            {
                "display_name": name,
                "birth_year": birth_year,
                "tz": tz,
                "surgery_type": surgery_type,
                "surgery_date": surgery_day,
                "approach": approach,
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"--{str(e['loc'][0] if e['loc'] else 'surgery_date').replace('_', '-').replace('display-name', 'name')}: "
            f"{str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False)
        )
        raise fail(problems, code=2) from None

    async def work(conn: AsyncConnection[Any]) -> UUID:
        # A team named by hand must exist (a typo must not create one); omitted: the default.
        team_id = await find_team(conn, team) if team is not None else None
        patient_id = await add_patient(conn, patient, team_id=team_id)
        await record_event(
            conn, actor_kind="cli", actor_id=None, action="patient add", patient_id=patient_id
        )
        return patient_id

    console.print(str(state.run(work)))


@patient_app.command("enroll-code")
def patient_enroll_code(
    ctx: typer.Context,
    patient: Annotated[UUID, typer.Option(help="Patient id (from `rehab patient add`).")],
) -> None:
    """Issue a one-time enrollment code for the patient's home hub (`rehab collect pair`)."""
    state: CliState = ctx.obj

    async def work(conn: AsyncConnection[Any]) -> tuple[str, str]:
        cur = await conn.execute("SELECT 1 FROM patients WHERE id = %s", (patient,))
        if await cur.fetchone() is None:
            raise NotFoundError(f"no patient {patient}")
        issued = await issue_enrollment_code(
            conn, patient_id=patient, by=None, ttl_s=state.settings.enrollment_code_ttl_s
        )
        await record_event(
            conn, actor_kind="cli", actor_id=None, action="patient enroll-code", patient_id=patient
        )
        return issued.code, issued.expires_at.isoformat(timespec="seconds")

    code, expires_at = state.run(work)
    console.print(code, highlight=False)
    console.print(f"valid once, until {expires_at}", style="dim", highlight=False)


@team_app.command("create")
def team_create(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Team name, e.g. north.")]
) -> None:
    """Create a care team (no-op if it exists); prints its id."""
    state: CliState = ctx.obj

    if not name.strip():
        raise fail("expected a team name, e.g. north", code=2)

    async def work(conn: AsyncConnection[Any]) -> UUID:
        return await ensure_team(conn, name)

    console.print(str(state.run(work)))


@team_app.command("add-member")
def team_add_member(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Team name.")],
    email: Annotated[str, typer.Option(help="Login e-mail of the user to add.")],
) -> None:
    """Add an existing login to a team (a clinician may belong to several)."""
    state: CliState = ctx.obj

    async def work(conn: AsyncConnection[Any]) -> None:
        cur = await conn.execute("SELECT id FROM users WHERE lower(email) = lower(%s)", (email,))
        row = await cur.fetchone()
        if row is None:
            raise NotFoundError(f"no user {email}")
        await add_team_member(conn, team_id=await find_team(conn, name), user_id=row[0])

    state.run(work)
    console.print(f"{email} is in team {name!r}")


@team_app.command("notify")
def team_notify(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Team name.")],
    webhook: Annotated[str | None, typer.Option(help="https:// URL to POST alerts to.")] = None,
    email: Annotated[str | None, typer.Option(help="Address to e-mail alerts to.")] = None,
) -> None:
    """Route the team's alerts to a webhook (prints its signing secret once) or an address."""
    state: CliState = ctx.obj
    if (webhook is None) == (email is None):
        raise fail("give exactly one of --webhook and --email", code=2)
    try:
        target = TargetIn(kind="webhook" if webhook else "email", address=webhook or email or "")
    except ValidationError as exc:
        raise fail(exc.errors(include_url=False)[0]["msg"], code=2) from None
    if target.kind == "email" and state.settings.smtp_host is None:
        raise fail(EMAIL_NEEDS_SMTP, code=2)

    box = secret_box(state.settings)

    async def work(conn: AsyncConnection[Any]) -> str | None:
        team_id = await find_team(conn, name)
        _, secret = await add_target(
            conn,
            team_id=team_id,
            target=target,
            box=box,
            smtp_configured=state.settings.smtp_host is not None,
            allow_private_webhooks=state.settings.webhook_allow_private_addresses,
        )
        return secret

    secret = state.run(work)
    console.print(f"team {name!r} alerts go to {target.address}", highlight=False)
    if secret:
        console.print("signing secret (shown once):", style="dim")
        console.print(secret, highlight=False, soft_wrap=True)


@device_app.command("add")
def device_add(
    ctx: typer.Context,
    patient: Annotated[UUID, typer.Option(help="Patient id (from `rehab patient add`).")],
    name: Annotated[str, typer.Option(help="A name for the hub.")] = "home hub",
) -> None:
    """Bind a new home hub to a patient; prints its token once (only a hash is stored)."""
    state: CliState = ctx.obj

    async def work(conn: AsyncConnection[Any]) -> tuple[UUID, str]:
        return await add_device(conn, patient_id=patient, name=name)

    device_id, token = state.run(work)
    console.print(f"device {device_id}", style="dim", highlight=False)
    console.print(token, highlight=False, soft_wrap=True)
