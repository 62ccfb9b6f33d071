"""FPI301's advice: values go in as bound parameters; a name (schema, table, sort column) cannot,
so the message says to allow-list or quote it instead. And how a hole read from a chained call
is named."""

import pytest

from fastapi_lint.engine import lint_source
from fastapi_lint.model.taint import identifier_context
from fastapi_lint.settings import Settings, resolve_selection

SETTINGS = Settings(enabled=resolve_selection(["FPI301"], [], []))

VALUES = "pass the values as bound parameters"
NAME = ("a bound parameter cannot stand for a name: check it against an allow-list or quote it as an "
        "identifier")
NAMES = ("a bound parameter cannot stand for a name: check them against an allow-list or quote them as an "
         "identifier")


def _advice(source: str):
    diags = lint_source(source, "app.py", SETTINGS).diagnostics
    return [(d.line, d.message.split("the database user can; ", 1)[1]) for d in diags if d.code == "FPI301"]


@pytest.mark.parametrize("text, expected", [
    ('CREATE SCHEMA IF NOT EXISTS "', True),
    ("DROP SCHEMA ", True),
    ('SET search_path TO "', True),
    ("SET search_path=", True),
    ("DELETE FROM ", True),
    ("INSERT INTO `", True),
    ("SELECT * FROM t ORDER BY ", True),
    ("SELECT * FROM t GROUP BY ", True),
    ('SELECT * FROM "{}"."', True),
    ("SELECT * FROM {}.", True),
    ("GRANT ALL ON SCHEMA ", True),
    ("DROP ", True),
    ("DROP TABLE IF EXISTS main.", True),
    ("SELECT * FROM t WHERE name = '", False),  # inside a string literal: a value
    ("SELECT * FROM t WHERE note = 'copied from ", False),  # `from` inside a literal
    ("SELECT * FROM t WHERE id = ", False),
    ("SELECT * FROM t LIMIT ", False),
    ("SELECT ", False),
    ("SELECT * FROM users", False),  # a keyword ends a word the hole is glued to: not a name slot
])
def test_identifier_context(text, expected):
    assert identifier_context(text) is expected


def test_a_schema_name_is_told_to_be_allow_listed_or_quoted():
    source = '''
from sqlalchemy import text

def create(connection, schema_name: str):
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"'))
    connection.execute(text(f'SET search_path TO "{schema_name}"'))
'''
    assert _advice(source) == [(5, NAME), (6, NAME)]


def test_a_value_is_told_to_be_bound():
    source = '''
def find(cur, name):
    cur.execute(f"SELECT * FROM users WHERE name = '{name}'")
    cur.execute(f"SELECT * FROM users WHERE note = 'copied from {name}'")
'''
    assert _advice(source) == [(3, VALUES), (4, VALUES)]


def test_names_and_values_together_get_both():
    source = '''
def purge(cur, schema, database, table):
    cur.execute(f"DELETE FROM {table} WHERE datname = '{database}'")
    cur.execute(f'SELECT * FROM "{schema}"."{table}"')
'''
    assert _advice(source) == [
        (3, "check the names (parameter `table`) against an allow-list or quote them as identifiers, "
            "and pass the values as bound parameters"),
        (4, NAMES),
    ]


def test_a_name_used_as_a_value_too_is_told_to_be_bound():
    source = '''
def both(cur, schema):
    cur.execute(f"SELECT * FROM {schema}.t WHERE owner = '{schema}'")
'''
    assert _advice(source) == [(3, VALUES)]


def test_a_sort_column_from_the_client():
    source = '''
from fastapi import FastAPI

app = FastAPI()

@app.get("/items")
def items(db, order: str):
    return db.execute(f"SELECT * FROM items ORDER BY {order}").fetchall()
'''
    [d] = [d for d in lint_source(source, "app.py", SETTINGS).diagnostics if d.code == "FPI301"]
    assert "any client can rewrite" in d.message and d.message.endswith(NAME)
    assert d.fix is not None and d.fix.message.startswith("Check names against an allow-list") and not d.fix.edits


def test_a_value_read_from_a_chained_call_is_named_by_its_methods():
    source = '''
from sqlalchemy import text

def tags(bind):
    rows = bind.execute(
        text("SELECT id FROM documents LIMIT 10")
    ).fetchall()
    bind.execute(text(f"DELETE FROM tags WHERE document_id = '{rows[-1]}'"))
'''
    [d] = [d for d in lint_source(source, "app.py", SETTINGS).diagnostics if d.code == "FPI301"]
    assert d.message.startswith("SQL text built from `bind.execute(...).fetchall()` reaches `execute()`")
