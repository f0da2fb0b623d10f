"""The small SQL vocabulary the pipeline needs, rendered for DuckDB or Spark SQL.

The cleaning, standardisation and verification steps are written once, as SQL built from these helpers, and run
unchanged on either engine. Only functions that behave identically on both are used: character-based ``substr``,
``instr``, ``length`` and ``levenshtein``; ``translate``; ``regexp_extract`` (empty string when nothing matches);
``try_cast``; ``concat_ws`` (skips NULLs); window functions. Regular expressions avoid backslashes and anything
beyond what RE2 (DuckDB) and java.util.regex (Spark) read the same way.
"""

from __future__ import annotations


class Dialect:
    name = "base"

    def lit(self, value: str | None) -> str:
        """A string literal."""
        if value is None:
            return "NULL"
        return "'" + value.replace("'", "''") + "'"

    def ident(self, name: str) -> str:
        """A quoted identifier (column names come from delivered files)."""
        return '"' + name.replace('"', '""') + '"'

    def regexp_replace_all(self, expr: str, pattern: str, replacement: str = "") -> str:
        raise NotImplementedError

    def regexp_matches(self, expr: str, pattern: str) -> str:
        raise NotImplementedError

    def regexp_extract(self, expr: str, pattern: str, group: int = 0) -> str:
        return f"regexp_extract({expr}, {self.lit(pattern)}, {group})"

    def not_distinct(self, left: str, right: str) -> str:
        """Null-safe equality."""
        raise NotImplementedError

    def join_sorted_ints(self, expr: str, sep: str = ",") -> str:
        """Aggregate: the non-NULL integers of ``expr`` in ascending order, joined by ``sep`` ('' when none)."""
        raise NotImplementedError

    def sha256_hex(self, expr: str) -> str:
        """SHA-256 of a string's UTF-8 bytes as 64 lower-case hex digits."""
        raise NotImplementedError


class DuckDBDialect(Dialect):
    name = "duckdb"

    def regexp_replace_all(self, expr: str, pattern: str, replacement: str = "") -> str:
        return f"regexp_replace({expr}, {self.lit(pattern)}, {self.lit(replacement)}, 'g')"

    def regexp_matches(self, expr: str, pattern: str) -> str:
        return f"regexp_matches({expr}, {self.lit(pattern)})"

    def not_distinct(self, left: str, right: str) -> str:
        return f"({left} IS NOT DISTINCT FROM {right})"

    def join_sorted_ints(self, expr: str, sep: str = ",") -> str:
        return f"coalesce(string_agg(CAST({expr} AS VARCHAR), {self.lit(sep)} ORDER BY {expr}), '')"

    def sha256_hex(self, expr: str) -> str:
        return f"sha256({expr})"


class SparkDialect(Dialect):
    name = "spark"

    def ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def lit(self, value: str | None) -> str:
        # Spark SQL string literals treat the backslash as an escape character.
        if value is None:
            return "NULL"
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def regexp_replace_all(self, expr: str, pattern: str, replacement: str = "") -> str:
        return f"regexp_replace({expr}, {self.lit(pattern)}, {self.lit(replacement)})"

    def regexp_matches(self, expr: str, pattern: str) -> str:
        return f"({expr} RLIKE {self.lit(pattern)})"

    def not_distinct(self, left: str, right: str) -> str:
        return f"({left} <=> {right})"

    def join_sorted_ints(self, expr: str, sep: str = ",") -> str:
        return f"array_join(transform(array_sort(collect_list({expr})), x -> CAST(x AS STRING)), {self.lit(sep)})"

    def sha256_hex(self, expr: str) -> str:
        return f"sha2({expr}, 256)"


DUCKDB = DuckDBDialect()
SPARK = SparkDialect()
