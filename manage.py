"""Operator commands, reading the same settings (environment, .env) as the app.

    python manage.py migrate
    python manage.py create-user alice@example.com [--name "Alice"]
    python manage.py api-key alice@example.com [--name laptop]     # the key alone on the last line
    python manage.py list-users
    python manage.py grant alice@example.com 100
    python manage.py balance alice@example.com                     # prints the available credits
    python manage.py rotate-key                                    # re-encrypt with the first DATA_KEYS key
"""

from __future__ import annotations

import argparse
import sys
import uuid

from auth.accounts import Accounts
from auth.tokens import normalize_email
from billing.ledger import Ledger
from config import Settings
from kernel.errors import UserError
from store.crypto import FieldCipher, rotate_keys
from store.db import create_engine, migrate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="manage.py", description="Studio operator commands")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="bring the database schema up to date")
    create = commands.add_parser("create-user", help="create an account (or show the existing one)")
    create.add_argument("email")
    create.add_argument("--name")
    key = commands.add_parser("api-key", help="create an API key for an account; prints it once")
    key.add_argument("email")
    key.add_argument("--name", default="created with manage.py")
    commands.add_parser("list-users", help="list accounts")
    grant = commands.add_parser("grant", help="give an account credits")
    grant.add_argument("email")
    grant.add_argument("credits", type=int)
    balance = commands.add_parser("balance", help="print an account's available credits")
    balance.add_argument("email")
    commands.add_parser("rotate-key", help="re-encrypt personal fields with the current DATA_KEYS key and re-hash "
                                           "addresses with the current LOOKUP_KEY")
    args = parser.parse_args(argv)

    settings = Settings()
    engine = create_engine(settings.sqlalchemy_url)
    cipher = FieldCipher.from_settings(settings)
    migrate(engine, cipher)
    accounts = Accounts(engine, settings)
    ledger = Ledger(engine, signup_credits=settings.signup_credits, hold_minutes=settings.hold_minutes)
    try:
        if args.command == "migrate":
            print("the database schema is up to date")
        elif args.command == "create-user":
            user = accounts.users.create(normalize_email(args.email), args.name)
            print(f"user {user.id}: {user.email}")
        elif args.command == "api-key":
            user = accounts.users.by_email(normalize_email(args.email))
            if user is None:
                print(f"no account for {args.email}; create it first with create-user", file=sys.stderr)
                return 1
            secret, info = accounts.api_keys.create(user.id, args.name)
            print(f"API key {info.prefix}… for user {user.id} (shown once):")
            print(secret)
        elif args.command == "list-users":
            for user in accounts.users.all():
                print(f"{user.id}\t{user.email}\t{user.name or ''}\t{user.created_at:%Y-%m-%d}")
        elif args.command in ("grant", "balance"):
            user = accounts.users.by_email(normalize_email(args.email))
            if user is None:
                print(f"no account for {args.email}", file=sys.stderr)
                return 1
            if args.command == "grant":
                if args.credits <= 0:
                    print("grant a positive number of credits", file=sys.stderr)
                    return 2
                ledger.grant(user.id, args.credits, kind="grant", source="operator",
                             unique_key=f"operator:{uuid.uuid4().hex}")
            print(ledger.balance(user.id).available)
        elif args.command == "rotate-key":
            changed = rotate_keys(engine, cipher)
            detail = ", ".join(f"{table} {count}" for table, count in changed.items())
            print(f"{sum(changed.values())} rows changed ({detail}); key {cipher.current} encrypts")
    except UserError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
