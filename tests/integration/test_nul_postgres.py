"""A NUL character on PostgreSQL, which stores and compares no NUL in text: every request holding one
is answered 4xx (never 503, as if the database were down), and nothing of it is stored."""

from __future__ import annotations

from tests.api.test_no_500 import (  # noqa: F401 - collected again here, on PostgreSQL
    test_a_nul_in_a_json_field_of_a_record_is_never_a_server_error,
    test_a_nul_in_a_path_or_a_query_is_a_bad_request,
)
