"""ringbridge's admin command line: ``python -m ringbridge.cli --help``.

It uses the same use cases and storage as the Lambda functions, so a CSV import and the
admin route write the SIP-mappings table in exactly the same way. Table names come from
the flags or from the environment variables the functions use (``SIP_MAPPINGS_TABLE``,
``CONTACTS_TABLE``); the stack's outputs print them.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TextIO

from pydantic import ValidationError

from ringbridge import wiring
from ringbridge.config import Settings
from ringbridge.domain.employees import EmployeeMapping
from ringbridge.domain.errors import DomainError
from ringbridge.domain.ports import ContactStore, EmployeeStore
from ringbridge.usecases import directory
from ringbridge.usecases.reconcile import Reconciled, parse_moment

CSV_COLUMNS = ("employee_id", "name", "crm_manager_id", "ringostat_employee_id", "sip_accounts", "fmc_number")


def _split_accounts(value: str) -> list[str]:
    return [part for part in value.replace(";", " ").replace(",", " ").split() if part]


def import_employees(
    rows: Iterable[dict[str, str]], default_country: str, employees: EmployeeStore, contacts: ContactStore
) -> tuple[int, list[str]]:
    """Save every row; return how many were saved and one message per refused row."""
    saved, errors = 0, []
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        missing = [column for column in ("employee_id", "name") if not (row.get(column) or "").strip()]
        if missing:
            errors.append(f"line {line}: missing {', '.join(missing)}")
            continue
        try:
            mapping = EmployeeMapping(
                name=row["name"],
                crm_manager_id=row.get("crm_manager_id") or None,
                ringostat_employee_id=row.get("ringostat_employee_id") or None,
                sip_accounts=_split_accounts(row.get("sip_accounts") or ""),
                fmc_number=row.get("fmc_number") or None,
            )
            directory.save_employee(row["employee_id"].strip(), mapping, default_country, employees, contacts)
            saved += 1
        except ValidationError as error:
            first = error.errors()[0]
            errors.append(f"line {line}: {'.'.join(map(str, first['loc']))}: {first['msg']}")
        except DomainError as error:
            errors.append(f"line {line}: {error.reason}")
    return saved, errors


def dlq_messages(sqs: Any, dlq_url: str, visibility_seconds: int) -> Iterator[dict[str, Any]]:
    """Every message of the dead-letter queue once (each hidden for ``visibility_seconds`` after it is seen)."""
    seen: set[str] = set()
    while True:
        batch = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=visibility_seconds,
            AttributeNames=["All"],
        ).get("Messages", [])
        fresh = [message for message in batch if message["MessageId"] not in seen]
        if not fresh:
            return
        for message in fresh:
            seen.add(message["MessageId"])
            yield message


def replay_dead_letters(sqs: Any, dlq_url: str, queue_url: str, message_ids: set[str] | None) -> int:
    """Move messages (all, or the named ones) back to the call queue; the worker is idempotent."""
    replayed = 0
    for message in dlq_messages(sqs, dlq_url, visibility_seconds=30):
        if message_ids is not None and message["MessageId"] not in message_ids:
            sqs.change_message_visibility(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
            continue
        # Send first, then delete: a crash in between replays twice, which the worker absorbs.
        sqs.send_message(QueueUrl=queue_url, MessageBody=message["Body"])
        sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
        replayed += 1
    return replayed


class DayProgress:
    """The reconcile command's progress on ``stream`` (stderr), after each day of the window: a bar
    redrawn in place on a terminal, one plain line per day otherwise (a log, a pipe)."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.redraw = stream.isatty()

    def __call__(self, done: int, total: int, counts: Reconciled) -> None:
        figures = (
            f"{done}/{total} days  read {counts.read}  new {counts.new}  "
            f"completed {counts.completed}  unchanged {counts.unchanged}"
        )
        if self.redraw:
            filled = self.WIDTH * done // total
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {figures}")
            if done == total:
                self.stream.write("\n")
        else:
            self.stream.write(f"reconcile: {figures}\n")
        self.stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ringbridge.cli", description="ringbridge admin commands")
    # Defaults: the functions' own configuration (the same environment variables); flags override it.
    config = Settings.from_env()
    parser.add_argument("--sip-mappings-table", default=config.sip_mappings_table)
    parser.add_argument("--contacts-table", default=config.contacts_table)
    parser.add_argument("--cards-table", default=config.cards_table)
    parser.add_argument("--calls-table", default=config.calls_table)
    parser.add_argument("--dedup-table", default=config.dedup_table)
    parser.add_argument("--default-country", default=config.default_country)
    parser.add_argument("--call-queue-url", default=config.call_queue_url)
    parser.add_argument("--dlq-url", default=config.call_dlq_url)
    commands = parser.add_subparsers(dest="command", required=True)
    employees_parser = commands.add_parser("employees", help="the employee mapping (SPEC C2)")
    employee_commands = employees_parser.add_subparsers(dest="action", required=True)
    import_parser = employee_commands.add_parser("import", help=f"import a CSV with the columns {', '.join(CSV_COLUMNS)}")
    import_parser.add_argument("csv_file", type=argparse.FileType("r", encoding="utf-8-sig"))
    employee_commands.add_parser("list", help="print every mapped employee as JSON lines")
    employee_commands.add_parser(
        "import-ringostat", help="create or update mappings from Ringostat's staff list (RINGOSTAT_* settings)"
    )
    dlq_parser = commands.add_parser("dlq", help="the dead-letter queue of failed CRM syncs")
    dlq_commands = dlq_parser.add_subparsers(dest="action", required=True)
    dlq_commands.add_parser("list", help="print each dead message: id, receive count, body")
    replay_parser = dlq_commands.add_parser("replay", help="put messages back on the call queue")
    which = replay_parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every message")
    which.add_argument("message_ids", nargs="*", default=[], metavar="MESSAGE_ID")
    crm_parser = commands.add_parser("crm", help="the configured CRM (KeyCRM, NetHunt)")
    crm_commands = crm_parser.add_subparsers(dest="action", required=True)
    crm_commands.add_parser(
        "check", help="ask the CRM whether the settings hold (CRM, FUNNEL_ID, KEYCRM_*, NETHUNT_*); exit 1 on an error"
    )
    commands.add_parser(
        "backfill", help="give contacts and cards written before the listings their index keys (reads both tables once)"
    )
    reconcile_parser = commands.add_parser(
        "reconcile",
        help="read Ringostat's call log for a window (at most 31 days) and feed lost or incomplete calls to the pipeline (L1)",
    )
    reconcile_parser.add_argument(
        "--from", dest="start", required=True, help="ISO 8601 with a zone, e.g. 2026-01-01T00:00:00+01:00"
    )
    reconcile_parser.add_argument("--to", dest="end", required=True, help="ISO 8601 with a zone")
    args = parser.parse_args(argv)
    wiring.use(
        config.model_copy(
            update={
                "sip_mappings_table": args.sip_mappings_table,
                "contacts_table": args.contacts_table,
                "cards_table": args.cards_table,
                "calls_table": args.calls_table,
                "dedup_table": args.dedup_table,
                "default_country": args.default_country,
                "call_queue_url": args.call_queue_url,
                "call_dlq_url": args.dlq_url,
            }
        )
    )

    if args.command == "dlq":
        return _dlq(parser, args)
    if args.command == "reconcile":
        return _reconcile(parser, args)
    if args.command == "crm":
        report = wiring.crm_check()
        print(json.dumps(report.answer(), ensure_ascii=False, indent=2))
        return 0 if report.ok else 1
    if args.command == "backfill":
        if not args.contacts_table or not args.cards_table:
            parser.error("name the tables with --contacts-table/--cards-table or CONTACTS_TABLE/CARDS_TABLE")
        contacts, cards = wiring.builtin_store().backfill_listing_keys()
        print(f"backfilled {contacts} contact(s), {cards} card(s)")
        return 0
    return _employees(parser, args)


def _reconcile(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """L1 from the command line: progress on stderr, the counts as JSON on stdout."""
    if not args.calls_table or not args.dedup_table or not args.call_queue_url:
        parser.error("name them with --calls-table/--dedup-table/--call-queue-url or CALLS_TABLE/DEDUP_TABLE/CALL_QUEUE_URL")
    try:
        start, end = parse_moment("from", args.start), parse_moment("to", args.end)
        outcome = wiring.reconcile(start, end, progress=DayProgress(sys.stderr))
    except DomainError as error:
        print(error.reason, file=sys.stderr)
        return 1
    print(json.dumps(outcome.answer()))
    return 0


def _dlq(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from ringbridge.storage.aws import client

    if not args.dlq_url or (args.action == "replay" and not args.call_queue_url):
        parser.error("name the queues with --dlq-url/--call-queue-url or CALL_DLQ_URL/CALL_QUEUE_URL")
    sqs = client("sqs")
    if args.action == "list":
        for message in dlq_messages(sqs, args.dlq_url, visibility_seconds=0):
            receives = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
            print(json.dumps({"message_id": message["MessageId"], "receive_count": receives, "body": message["Body"]}))
        return 0
    replayed = replay_dead_letters(sqs, args.dlq_url, args.call_queue_url, None if args.all else set(args.message_ids))
    print(f"replayed {replayed} message(s)")
    return 0


def _employees(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if not args.sip_mappings_table or not args.contacts_table:
        parser.error("name the tables with --sip-mappings-table/--contacts-table or SIP_MAPPINGS_TABLE/CONTACTS_TABLE")
    employees, contacts = wiring.employees(), wiring.contacts()

    if args.action == "list":
        for employee in employees.list():
            print(json.dumps(employee.model_dump(), ensure_ascii=False))
        return 0
    if args.action == "import-ringostat":
        from ringbridge.usecases.ringostat_staff import import_staff

        try:
            report = import_staff(wiring.ringostat(), args.default_country, employees, contacts)
        except DomainError as error:
            print(error.reason, file=sys.stderr)
            return 1
        for message in report.refused:
            print(message, file=sys.stderr)
        print(json.dumps(report.answer(), ensure_ascii=False))
        return 1 if report.refused else 0
    reader = csv.DictReader(args.csv_file)
    unknown = set(reader.fieldnames or []) - set(CSV_COLUMNS)
    if unknown:
        print(f"unknown columns: {', '.join(sorted(unknown))}; expected {', '.join(CSV_COLUMNS)}", file=sys.stderr)
        return 2
    saved, errors = import_employees(reader, args.default_country, employees, contacts)
    for message in errors:
        print(message, file=sys.stderr)
    print(f"imported {saved} employee(s), refused {len(errors)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
