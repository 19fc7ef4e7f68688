"""Least-privilege roles on a PostgreSQL warehouse (issue 24 item 10), created and granted by `icm migrate`.

A state separates who loads, who analyses and who publishes. Three group roles (NOLOGIN; a database
administrator makes people or services members: `GRANT icm_analyst TO alice`):

* icm_loader   reads and writes every table (icm load, icm measures, icm settle, the Dagster jobs; icm export).
* icm_analyst  reads every table, but only the columns that identify no one: no person, member or claim id, no
               birth/death date or ZIP code, no raw quarantined line (IDENTIFIER_COLUMNS). Column privileges make
               the de-identified view of each table; `icm measures --stored`, `icm settle --stored` and the
               notebooks' aggregate queries run as the analyst.
* icm_reporter reads only the published results (REPORTER_TABLES).
Every role may read alembic_version (the CLI checks the schema is at head). Granting is idempotent and is
re-run by every `icm migrate`, so tables added by later revisions are covered. Spark/Databricks: README.
"""
from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from warehouse.engine import is_duckdb, make_engine

ROLES = LOADER, ANALYST, REPORTER = ("icm_loader", "icm_analyst", "icm_reporter")
IDENTIFIER_COLUMNS = frozenset({
    "person_id", "member_id", "claim_id", "claim_family_id", "span_id", "enrollment_span_id", "numerator_claim_id",
    "birth_date", "death_date", "zip_code", "raw_row",
})
REPORTER_TABLES = ("measure_result", "settlement", "icm_program", "icm_entity")


def may_create_roles(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user"))
                    .scalar())


def grant_roles(engine: Engine) -> dict[str, int]:
    """Create the roles if missing and (re)grant them on the tables of the public schema; returns the number of
    tables each role may read. PostgreSQL only."""
    assert engine.dialect.name == "postgresql", "roles are a PostgreSQL feature"
    quote = engine.dialect.identifier_preparer.quote
    loader, analyst, reporter = (quote(r) for r in ROLES)
    tables = sorted(inspect(engine).get_table_names(schema="public"))
    readable = {r: 0 for r in ROLES}
    with engine.begin() as conn:
        existing = set(conn.execute(text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:names)"),
                                    {"names": list(ROLES)}).scalars())
        for role in ROLES:
            if role not in existing:
                conn.execute(text(f"CREATE ROLE {quote(role)} NOLOGIN"))
        database = quote(conn.execute(text("SELECT current_database()")).scalar_one())
        conn.execute(text(f"GRANT CONNECT ON DATABASE {database} TO {loader}, {analyst}, {reporter}"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {loader}, {analyst}, {reporter}"))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {loader}"))
        for table in tables:
            name = quote(table)
            conn.execute(text(f"REVOKE ALL ON {name} FROM {analyst}, {reporter}"))
            conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON {name} TO {loader}"))
            readable["icm_loader"] += 1
            if table == "alembic_version" or table in REPORTER_TABLES:
                conn.execute(text(f"GRANT SELECT ON {name} TO {reporter}"))
                readable["icm_reporter"] += 1
            columns = [c["name"] for c in inspect(conn).get_columns(table, schema="public")]
            allowed = [c for c in columns if c not in IDENTIFIER_COLUMNS]
            if allowed:
                conn.execute(text(f"GRANT SELECT ({', '.join(quote(c) for c in allowed)}) ON {name} TO {analyst}"))
                readable["icm_analyst"] += 1
    return readable


def roles_granted(engine: Engine) -> bool:
    """True when `icm migrate` granted the roles in this warehouse's database (roles belong to the whole server,
    grants to one database: a warehouse migrated with --no-roles or by `upgrade` alone has none)."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT to_regrole(:role) IS NOT NULL AND to_regclass('public.alembic_version') IS NOT NULL "
            "AND has_table_privilege(:role, 'public.alembic_version', 'SELECT')"), {"role": ROLES[0]}).scalar())


def least_role_engine(url: str, role: str, *, read_only: bool = False) -> Engine:
    """An engine that works as `role` on a PostgreSQL warehouse whose roles are granted (the login must be a
    member of it, e.g. a service login `GRANT icm_loader, icm_analyst, icm_reporter TO icm_service`), read-only
    if asked; on a PostgreSQL warehouse without roles, or for a login that is not a member of the role, the
    login's own privileges. DuckDB has no roles (file
    permissions decide): the engine is the one make_engine gives, read_only as asked."""
    if is_duckdb(url):
        return make_engine(url, read_only=read_only)
    login = make_engine(url)
    try:
        switch = roles_granted(login) and login_may_act_as(login, role)
    finally:
        login.dispose()
    return make_engine(url, read_only=read_only, role=role if switch else None)


def login_may_act_as(engine: Engine, role: str) -> bool:
    """True when the login is a member of `role` (a superuser is a member of every role). A login that is not
    keeps its own privileges, which its administrator granted it directly (README, roles)."""
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT pg_has_role(current_user, :role, 'MEMBER')"), {"role": role}).scalar())
