"""PostgreSQL's server log, as PostgreSQL 15 wrote it on this project's machine (Debian's
``log_line_prefix`` ``%m [%p] %q%u@%d ``, then ``%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h``
set by ``ALTER SYSTEM`` while it ran): detected with no flags, a report's DETAIL, HINT,
CONTEXT, QUERY and STATEMENT lines kept with it (and as fields), the severity as the level."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from tests.test_infer import read_back as records

DEBIAN = '2026-12-01 21:55:48.471 UTC [2330] LOG:  starting PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit\n2026-12-01 21:55:48.471 UTC [2330] LOG:  listening on IPv4 address "127.0.0.1", port 5432\n2026-12-01 21:55:48.472 UTC [2330] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"\n2026-12-01 21:55:48.481 UTC [2333] LOG:  database system was shut down at 2026-12-01 21:54:36 UTC\n2026-12-01 21:55:48.497 UTC [2330] LOG:  database system is ready to accept connections\n2026-12-01 21:55:52.245 UTC [2381] postgres@postgres ERROR:  duplicate key value violates unique constraint "t_pkey"\n2026-12-01 21:55:52.245 UTC [2381] postgres@postgres DETAIL:  Key (id)=(1) already exists.\n2026-12-01 21:55:52.245 UTC [2381] postgres@postgres STATEMENT:  insert into t values (1, \'b\');\n2026-12-01 21:55:52.246 UTC [2381] postgres@postgres ERROR:  column "nosuchcol" does not exist at character 26\n2026-12-01 21:55:52.246 UTC [2381] postgres@postgres STATEMENT:  select *\n\t  from t\n\t where nosuchcol = 1;\n2026-12-01 21:55:52.252 UTC [2381] postgres@postgres WARNING:  disk almost full: 91 percent\n2026-12-01 21:55:52.252 UTC [2381] postgres@postgres CONTEXT:  PL/pgSQL function inline_code_block line 1 at RAISE\n2026-12-01 21:55:52.252 UTC [2381] postgres@postgres ERROR:  division by zero\n2026-12-01 21:55:52.252 UTC [2381] postgres@postgres CONTEXT:  SQL statement "SELECT 1/0"\n\tPL/pgSQL function inline_code_block line 1 at PERFORM\n2026-12-01 21:55:52.252 UTC [2381] postgres@postgres STATEMENT:  do $$ begin perform 1/0; end $$;\n2026-12-01 21:55:52.269 UTC [2381] postgres@postgres ERROR:  column "nosuch" does not exist at character 9\n2026-12-01 21:55:52.269 UTC [2381] postgres@postgres QUERY:  (select nosuch from t)\n2026-12-01 21:55:52.269 UTC [2381] postgres@postgres CONTEXT:  PL/pgSQL function f() line 1 at RETURN\n2026-12-01 21:55:52.269 UTC [2381] postgres@postgres STATEMENT:  select f();\n2026-12-01 21:55:52.361 UTC [2393] postgres@nosuchdb FATAL:  database "nosuchdb" does not exist\n2026-12-01 21:55:52.446 UTC [2330] LOG:  received fast shutdown request\n2026-12-01 21:55:52.447 UTC [2330] LOG:  aborting any active transactions\n2026-12-01 21:55:52.458 UTC [2330] LOG:  background worker "logical replication launcher" (PID 2336) exited with exit code 1\n2026-12-01 21:55:52.459 UTC [2331] LOG:  shutting down\n'

ALTERED = '2026-12-01 21:56:08.428 UTC [2566] LOG:  received SIGHUP, reloading configuration files\n2026-12-01 21:56:08 UTC [2566]: [6-1] user=,db=,app=,client= LOG:  parameter "log_line_prefix" changed to "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h "\n2026-12-01 21:56:09 UTC [2631]: [1-1] user=postgres,db=postgres,app=[unknown],client=127.0.0.1 FATAL:  password authentication failed for user "postgres"\n2026-12-01 21:56:09 UTC [2631]: [2-1] user=postgres,db=postgres,app=[unknown],client=127.0.0.1 DETAIL:  User "postgres" has no password assigned.\n\tConnection matched pg_hba.conf line 97: "host    all             all             127.0.0.1/32            scram-sha-256"\n2026-12-01 21:56:09 UTC [2566]: [7-1] user=,db=,app=,client= LOG:  received SIGHUP, reloading configuration files\n2026-12-01 21:56:09.218 UTC [2566] LOG:  parameter "log_line_prefix" changed to "%m [%p] %q%u@%d "\n'


def test_debian_prefix_detected_and_each_report_is_one_record():
    fmt, got = records(DEBIAN)
    assert fmt.name == "postgresql"
    assert len(got) == 15  # 27 lines: the reports' other parts stay with them
    assert [r.level for r in got[:6]] == ["INFO"] * 5 + ["ERROR"]
    dup = got[5]
    assert dup.message.startswith('duplicate key value violates unique constraint "t_pkey"\n')
    assert dup.fields == {"detail": "Key (id)=(1) already exists.",
                          "statement": "insert into t values (1, 'b');",
                          "pid": 2381, "user": "postgres", "db": "postgres"}
    assert dup.time == datetime(2026, 12, 1, 21, 55, 52, 245000, tzinfo=UTC)
    assert got[6].fields["statement"] == "select *\n\t  from t\n\t where nosuchcol = 1;"
    assert got[7].level == "WARNING" and got[7].message.startswith("disk almost full: 91 percent")
    nosuch = got[9]
    assert (nosuch.fields["query"], nosuch.fields["statement"]) == ("(select nosuch from t)",
                                                                     "select f();")
    assert got[10].level == "CRITICAL" and got[10].fields["db"] == "nosuchdb"  # FATAL
    assert {r.logger for r in got} == {"postgres"}


def test_any_prefix_before_the_severity_is_read():
    fmt, got = records(ALTERED)
    assert fmt.name == "postgresql"
    assert [r.level for r in got] == ["INFO", "INFO", "CRITICAL", "INFO", "INFO"]
    fatal = got[2]
    assert fatal.time == datetime(2026, 12, 1, 21, 56, 9, tzinfo=UTC)
    assert fatal.fields["pid"] == 2631 and fatal.fields["client"] == "127.0.0.1"
    assert fatal.fields["user"] == "postgres" and "app" not in fatal.fields  # [unknown]
    assert fatal.fields["detail"].startswith('User "postgres" has no password assigned.\n\t')


def test_print_finds_the_reports_by_level_and_field(tmp_path):
    path = tmp_path / "postgresql-15-main.log"
    path.write_text(DEBIAN)

    def run(query: str) -> list[str]:
        out = subprocess.run([sys.executable, "-m", "logview", str(path), "--print", "-q", query],
                             capture_output=True, text=True, timeout=60, check=True).stdout
        return out.splitlines()

    reports = [line for line in run("level>=ERROR") if " ERROR:  " in line or " FATAL:  " in line]
    assert len(reports) == 5
    assert run("statement~nosuchcol")[1].endswith("STATEMENT:  select *")
    assert run("db=nosuchdb") == [line for line in DEBIAN.splitlines() if "@nosuchdb" in line]
