"""The credit ledger: an append-only list of entries and a per-user account row, changed together.

Every change is one transaction that inserts an entry with a unique business key (so the same
payment, run or grant is never counted twice) and moves the account's three numbers by the
entry's three deltas: `amount` (balance), `held` (reserved for runs) and `debt`. Summing a user's
entries gives their account row: that invariant is what the tests check.

Runs hold credits before the model works, capture them on success and release them on any
failure. Holding is one conditional UPDATE (enough available, no debt), safe under concurrency
on PostgreSQL (the WHERE is re-checked after a concurrent commit) and SQLite (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row

from kernel.clock import aware, now
from kernel.errors import UserError
from store.db import insert_or_skip
from store.tables import credit_accounts, credit_entries, credit_holds, signup_addresses, users

log = logging.getLogger(__name__)

RESOLVE_RETRY_PAUSE_S = 2.0  # a restarting database is usually back within this
SOLD_KINDS = ("purchase", "subscription")  # grants paid through Creem: a pack, or a subscription period


class InsufficientCredits(UserError):
    """Not enough credits for a run. The message is safe to show."""


@dataclass(frozen=True)
class Balance:
    balance: int
    reserved: int
    debt: int

    @property
    def available(self) -> int:
        return self.balance - self.reserved


@dataclass(frozen=True)
class Entry:
    kind: str
    amount: int
    held: int
    debt: int
    source: str
    reference: str | None
    created_at: datetime


class Ledger:
    def __init__(self, engine: Engine, *, signup_credits: int, hold_minutes: float, sold_here: bool = True) -> None:
        self.engine = engine
        self.signup_credits = signup_credits
        self.hold_for = timedelta(minutes=hold_minutes)
        self.sold_here = sold_here  # whether the refusal may point to the Credits tab's buy buttons

    # ------------------------------------------------------------ reading

    def balance(self, user_id: int) -> Balance:
        """The account, opened with the sign-up grant the first time anyone looks.

        A plain read when the account exists: the success page polls this every two seconds,
        and on SQLite a write transaction would take the database's only write lock.
        """
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(credit_accounts).where(credit_accounts.c.user_id == user_id)).first()
        if row is not None:
            return Balance(row.balance, row.reserved, row.debt)
        with self.engine.begin() as conn:
            self.open(conn, user_id)
            return self._balance(conn, user_id)

    def history(self, user_id: int, limit: int = 50) -> list[Entry]:
        query = (
            sa.select(credit_entries).where(credit_entries.c.user_id == user_id)
            .order_by(credit_entries.c.id.desc()).limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                Entry(r.kind, r.amount, r.held, r.debt, r.source, r.reference, aware(r.created_at))
                for r in conn.execute(query)
            ]

    def sold_and_spent(self, start: datetime, end: datetime) -> list[Row]:
        """(kind, amount, debt, created_at) of the entries from `start` until `end` that sold or spent credits.

        Sold: grants paid through Creem (SOLD_KINDS); spent: captures of successful runs. One plain
        SELECT, the same on SQLite and PostgreSQL: billing/stats.py does the arithmetic in Python.
        """
        c = credit_entries.c
        query = sa.select(c.kind, c.amount, c.debt, c.created_at).where(
            c.created_at >= start, c.created_at < end,
            sa.or_(sa.and_(c.source == "creem", c.kind.in_(SOLD_KINDS)), c.kind == "capture"),
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).all())

    @staticmethod
    def _balance(conn: Connection, user_id: int, *, lock: bool = False) -> Balance:
        query = sa.select(credit_accounts).where(credit_accounts.c.user_id == user_id)
        row = conn.execute(query.with_for_update() if lock else query).one()  # lock: decide, then write
        return Balance(row.balance, row.reserved, row.debt)

    # ------------------------------------------------------------ the one way numbers change

    def open(self, conn: Connection, user_id: int) -> None:
        """Create the account row if missing, with its sign-up grant, inside `conn`'s transaction."""
        created = insert_or_skip(
            conn, credit_accounts,
            {"user_id": user_id, "balance": 0, "reserved": 0, "debt": 0, "updated_at": now()}, ["user_id"],
        )
        if created and self.signup_credits and self._first_signup(conn, user_id):
            self.apply(conn, user_id, "grant", amount=self.signup_credits, source="signup",
                       unique_key=f"signup:{user_id}")

    @staticmethod
    def _first_signup(conn: Connection, user_id: int) -> bool:
        """Whether this account's address has never had sign-up credits; it is remembered as having had them.

        Only the address's keyed hash is kept (the users table's own), and it outlives the account, so
        deleting an account and signing up again with the same address does not grant the credits twice.
        An account without an address (a provider that gave none) cannot be recognised and gets them.
        """
        email_hash = conn.execute(sa.select(users.c.email_hash).where(users.c.id == user_id)).scalar()
        if email_hash is None:
            return True
        return insert_or_skip(conn, signup_addresses, {"email_hash": email_hash, "created_at": now()}, ["email_hash"])

    def forget_signup_addresses(self, older_than_days: int) -> int:
        """Drop the hashes of addresses that had sign-up credits more than `older_than_days` ago."""
        cutoff = now() - timedelta(days=older_than_days)
        with self.engine.begin() as conn:
            removed = conn.execute(signup_addresses.delete().where(signup_addresses.c.created_at < cutoff)).rowcount
        if removed:
            log.info("forgot %d sign-up address hash(es) past their retention", removed)
        return removed

    def apply(self, conn: Connection, user_id: int, kind: str, *, amount: int = 0, held: int = 0, debt: int = 0,
              source: str, unique_key: str, reference: str | None = None) -> bool:
        """Record one entry and move the account by its deltas; False if `unique_key` was already applied.

        The account's CHECK constraints stop anything that would go below zero: the transaction fails.
        """
        moment = now()
        new = insert_or_skip(conn, credit_entries, {
            "user_id": user_id, "kind": kind, "amount": amount, "held": held, "debt": debt, "source": source,
            "reference": reference, "unique_key": unique_key, "created_at": moment,
        }, ["unique_key"])
        if new:
            a = credit_accounts.c
            conn.execute(
                credit_accounts.update().where(a.user_id == user_id)
                .values(balance=a.balance + amount, reserved=a.reserved + held, debt=a.debt + debt, updated_at=moment)
            )
        return new

    # ------------------------------------------------------------ grants and clawbacks

    def grant(self, user_id: int, credits: int, *, kind: str, source: str, unique_key: str,
              reference: str | None = None, conn: Connection | None = None) -> bool:
        """Add credits; any debt is settled from them first."""
        def work(c: Connection) -> bool:
            self.open(c, user_id)
            settle = min(self._balance(c, user_id, lock=True).debt, credits)
            return self.apply(c, user_id, kind, amount=credits - settle, debt=-settle, source=source,
                              unique_key=unique_key, reference=reference)
        return self._in_transaction(conn, work)

    def take_back(self, user_id: int, credits: int, *, kind: str, source: str, unique_key: str,
                  reference: str | None = None, conn: Connection | None = None) -> bool:
        """Remove credits (refund, chargeback); what was already spent becomes debt."""
        def work(c: Connection) -> bool:
            self.open(c, user_id)
            take = min(credits, self._balance(c, user_id, lock=True).available)
            return self.apply(c, user_id, kind, amount=-take, debt=credits - take, source=source,
                              unique_key=unique_key, reference=reference)
        return self._in_transaction(conn, work)

    def _in_transaction(self, conn: Connection | None, work):
        if conn is not None:
            return work(conn)
        with self.engine.begin() as own:
            return work(own)

    # ------------------------------------------------------------ runs: hold, capture, release

    def hold(self, user_id: int, run_id: str, cost: int) -> None:
        """Reserve `cost` credits for a run, or raise InsufficientCredits with the reason."""
        moment = now()
        with self.engine.begin() as conn:
            # The rows first, the hot account row last: its lock is then held only until COMMIT.
            conn.execute(credit_entries.insert().values(
                user_id=user_id, kind="hold", amount=0, held=cost, debt=0, source="run", reference=run_id,
                unique_key=f"hold:{run_id}", created_at=moment,
            ))
            conn.execute(credit_holds.insert().values(
                run_id=run_id, user_id=user_id, amount=cost, status="held", created_at=moment,
                expires_at=moment + self.hold_for,
            ))
            if not self._reserve(conn, user_id, cost):
                self.open(conn, user_id)  # the account's first use
                if not self._reserve(conn, user_id, cost):
                    raise self._refusal(conn, user_id, cost)  # and the rows above roll back

    @staticmethod
    def _reserve(conn: Connection, user_id: int, cost: int) -> bool:
        """The one conditional UPDATE: enough available and no debt, or nothing changes."""
        a = credit_accounts.c
        return conn.execute(
            credit_accounts.update()
            .where(a.user_id == user_id, a.balance - a.reserved >= cost, a.debt == 0)
            .values(reserved=a.reserved + cost, updated_at=now())
            .returning(a.reserved)
        ).first() is not None

    def _refusal(self, conn: Connection, user_id: int, cost: int) -> InsufficientCredits:
        account = self._balance(conn, user_id)
        if account.debt:
            return InsufficientCredits(
                f"Your account owes {account.debt} credits after a refunded payment. "
                "Buy credits in the Credits tab to settle it, then run again."
            )
        if not self.sold_here:
            return InsufficientCredits(
                f"This run costs {cost} credits and you have {account.available}. Credits cannot be bought on "
                "this server; ask the people who run it for more. Nothing was run or charged."
            )
        return InsufficientCredits(
            f"This run costs {cost} credits and you have {account.available}. "
            "Buy more in the Credits tab; nothing was run or charged."
        )

    def capture(self, run_id: str) -> bool:
        """Charge a successful run its held credits."""
        return self._resolve(run_id, "captured", charge=True, source="run")

    def settle(self, run_id: str, charge: int) -> bool:
        """Charge `charge` of a hold and give the rest back, in one transaction: a compare held its whole price
        once and is charged only for the results it delivered. Once; a second call changes nothing."""
        return self._resolve(run_id, "captured" if charge else "released", charge=True, source="run", part=charge)

    def release(self, run_id: str, source: str = "run") -> bool:
        """Give a run's held credits back: it failed, was cancelled, refused or abandoned."""
        return self._resolve(run_id, "released", charge=False, source=source)

    def _resolve(self, run_id: str, status: str, *, charge: bool, source: str, part: int | None = None) -> bool:
        """Move a hold from 'held' to its end state once; a second call changes nothing.

        A run's last step, after the model's seconds of work: if the database dropped the connection
        meanwhile (a restart), try once more on a fresh one. Safe because it is idempotent; if that
        fails too, the hold expires and the sweeper releases it.
        """
        try:
            return self._resolve_once(run_id, status, charge=charge, source=source, part=part)
        except sa.exc.DBAPIError as exc:
            if not (isinstance(exc, sa.exc.OperationalError) or exc.connection_invalidated):
                raise
            log.warning("%s of run %s failed (%s); trying once more", status, run_id, type(exc.orig).__name__)
        time.sleep(RESOLVE_RETRY_PAUSE_S)
        return self._resolve_once(run_id, status, charge=charge, source=source, part=part)

    def _resolve_once(self, run_id: str, status: str, *, charge: bool, source: str, part: int | None) -> bool:
        """`part`: charge only this much of the hold (at most all of it) and release the rest, each an entry."""
        with self.engine.begin() as conn:
            h = credit_holds.c
            row = conn.execute(
                credit_holds.update().where(h.run_id == run_id, h.status == "held")
                .values(status=status, resolved_at=now()).returning(h.user_id, h.amount)
            ).first()
            if row is None:
                return False
            charged = (row.amount if part is None else min(max(part, 0), row.amount)) if charge else 0
            done = True
            if charged:
                done = self.apply(conn, row.user_id, "capture", amount=-charged, held=-charged, source=source,
                                  unique_key=f"capture:{run_id}", reference=run_id)
            if row.amount - charged or not charged:
                done = self.apply(conn, row.user_id, "release", held=-(row.amount - charged), source=source,
                                  unique_key=f"release:{run_id}", reference=run_id) and done
            return done

    def sweep(self) -> int:
        """Release holds past their expiry: their runs died with a process. Returns how many."""
        with self.engine.connect() as conn:
            expired = conn.execute(
                sa.select(credit_holds.c.run_id)
                .where(credit_holds.c.status == "held", credit_holds.c.expires_at < now())
            ).scalars().all()
        released = sum(self.release(run_id, source="sweeper") for run_id in expired)
        if released:
            log.warning("released %d credit holds left by runs that did not finish", released)
        return released
