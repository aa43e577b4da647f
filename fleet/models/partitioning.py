"""Time-range partitions of a PostgreSQL table: their names, creation on demand and ahead, listing, dropping.

A partitioned table is split by a `timestamptz` column into one partition per
UTC day or per UTC month, named `<table>_pYYYYMMDD` or `<table>_pYYYYMM`, so
that the name alone tells the range (listing needs no bound parsing) and a
whole period leaves with one `DROP TABLE` instead of row DELETEs.

A row whose period has no partition is refused by PostgreSQL, so writers call
`partitions_ensure` with the periods they are about to write. It looks in a
per-process set of periods known to exist first and asks the catalogue only
for the others. A period enters the set only once the transaction that saw or
created it has committed (a rolled-back CREATE leaves nothing to remember) and
only when it is not older than the caller's `cache_since`: older partitions
may be dropped by another process's retention run, and are checked each time.

Creating a partition locks the parent table briefly against every reader, so
it belongs in a short transaction of its own (the ingest calls it before
opening its batch transaction); the periodic task creates them ahead so that
the hot path only ever finds them.

SQLite (the embedded demo) has plain tables: every function is a no-op there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from collections.abc import Iterable
from typing import Literal

from django.db import DatabaseError, connection, models, transaction

Period = Literal["day", "month"]


@dataclass(frozen=True)
class RangePartitioned:
    """A table partitioned by RANGE on a time column into one partition per UTC day or month."""

    table: str
    period: Period

    def start_of(self, ts: datetime) -> date:
        """The first day of the period `ts` falls in (UTC)."""
        day = ts.astimezone(UTC).date()
        return day if self.period == "day" else day.replace(day=1)

    def next_start(self, start: date) -> date:
        """The first day of the period after the one starting on `start`."""
        if self.period == "day":
            return start + timedelta(days=1)
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)

    def name(self, start: date) -> str:
        """The partition's table name, which encodes its range."""
        return f"{self.table}_p{start:%Y%m%d}" if self.period == "day" else f"{self.table}_p{start:%Y%m}"

    def start_from_name(self, name: str) -> date | None:
        """The period a partition name stands for; None for a table that does not follow the scheme."""
        suffix = name.removeprefix(f"{self.table}_p")
        try:
            if self.period == "day" and len(suffix) == 8:
                return datetime.strptime(suffix, "%Y%m%d").date()
            if self.period == "month" and len(suffix) == 6:
                return datetime.strptime(suffix, "%Y%m").date()
        except ValueError:
            return None
        return None

    def starts_between(self, first: datetime, last: datetime) -> list[date]:
        """Every period from the one holding `first` to the one holding `last`."""
        starts, start, end = [], self.start_of(first), self.start_of(last)
        while start <= end:
            starts.append(start)
            start = self.next_start(start)
        return starts

    def create_sql(self, start: date) -> str:
        """The DDL that creates the partition for the period starting on `start` (values are dates, not input)."""
        return (
            f'CREATE TABLE IF NOT EXISTS "{self.name(start)}" PARTITION OF "{self.table}" '
            f"FOR VALUES FROM ('{start.isoformat()} 00:00:00+00') TO ('{self.next_start(start).isoformat()} 00:00:00+00')"
        )


_known: dict[str, set[date]] = {}


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def partitions_ensure(partitioned: RangePartitioned, starts: Iterable[date], *, trust_since: date | None = None) -> list[date]:
    """Create the partitions of these periods that do not exist yet; returns the ones created.

    Periods remembered by this process are trusted only from `trust_since` on:
    an older one may have been dropped by retention since, and is looked up again.
    """
    if not _is_postgresql():
        return []
    known = _known.setdefault(partitioned.table, set())
    wanted = sorted(s for s in set(starts) if s not in known or (trust_since is not None and s < trust_since))
    if not wanted:
        return []
    created = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(quote_ident(name)) IS NULL",
                       [[partitioned.name(start) for start in wanted]])
        missing = {row[0] for row in cursor.fetchall()}
        for start in wanted:
            if partitioned.name(start) not in missing:
                continue
            try:
                with transaction.atomic():
                    cursor.execute(partitioned.create_sql(start))
            except DatabaseError:
                # Another process created it between our look and our CREATE; anything else shows below.
                cursor.execute("SELECT to_regclass(quote_ident(%s)) IS NOT NULL", [partitioned.name(start)])
                if not cursor.fetchone()[0]:
                    raise
            created.append(start)
    remember = {start for start in wanted if trust_since is None or start >= trust_since}
    transaction.on_commit(lambda: known.update(remember))
    return created


def partitions_list(partitioned: RangePartitioned) -> list[date]:
    """The periods that have a partition, oldest first."""
    if not _is_postgresql():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(quote_ident(%s))",
            [partitioned.table],
        )
        starts = [partitioned.start_from_name(row[0]) for row in cursor.fetchall()]
    return sorted(start for start in starts if start is not None)


def partition_drop(partitioned: RangePartitioned, start: date) -> None:
    """Drop the partition of one period with all its rows (no row is deleted one by one)."""
    if not _is_postgresql():
        return
    _known.get(partitioned.table, set()).discard(start)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # rows written in this transaction must be checked first
        cursor.execute(f'DROP TABLE IF EXISTS "{partitioned.name(start)}"')


def partition_detach(partitioned: RangePartitioned, start: date, new_name: str) -> None:
    """Detach the partition of one period and rename it, so that the period can get a new partition meanwhile."""
    if not _is_postgresql():
        return
    _known.get(partitioned.table, set()).discard(start)
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{partitioned.table}" DETACH PARTITION "{partitioned.name(start)}"')
        cursor.execute(f'ALTER TABLE "{partitioned.name(start)}" RENAME TO "{new_name}"')


def partition_bounds(partitioned: RangePartitioned, start: date) -> tuple[datetime, datetime]:
    """The half-open time range [lower, upper) of one period, in UTC."""
    lower = datetime(start.year, start.month, start.day, tzinfo=UTC)
    upper_day = partitioned.next_start(start)
    return lower, datetime(upper_day.year, upper_day.month, upper_day.day, tzinfo=UTC)


class PartitionedQuerySet(models.QuerySet):
    """ORM bulk writes create the partitions their rows need first (the model says how, in `ensure_partitions`)."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        self.model.ensure_partitions([obj.ts for obj in objs])
        return super().bulk_create(objs, *args, **kwargs)


class PartitionedModel(models.Model):
    """A model stored in time partitions on PostgreSQL: every ORM write makes sure of its row's partition.

    The ingest's COPY path calls `ensure_partitions` itself; this catches the
    rest (admin, scripts, fixtures), so no row is ever refused for a missing
    partition. Subclasses define `ensure_partitions(timestamps)`.
    """

    objects = PartitionedQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def ensure_partitions(cls, timestamps: Iterable[datetime]) -> list[date]:
        raise NotImplementedError

    def save(self, *args, **kwargs):
        type(self).ensure_partitions([self.ts])
        super().save(*args, **kwargs)


def forget_known_partitions() -> None:
    """Empty the per-process cache (tests that drop partitions behind this process's back)."""
    _known.clear()
