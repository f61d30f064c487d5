"""Reading CSV rows: BOM, delimiters, quoting, foreign headers, bad bytes, line numbers."""

import io

import pytest

from crm_graph.connectors.csv import CsvColumn
from crm_graph.errors import UserError
from crm_graph_csv.reader import BadRow, rows

COLUMNS = (CsvColumn("id", True, ""), CsvColumn("name", False, ""), CsvColumn("note", False, ""))


def read(data: bytes, mapping=None):
    return list(rows(io.BytesIO(data), mapping or {}, COLUMNS))


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("sep", [b",", b";"])
def test_bom_and_delimiters(bom, sep):
    data = bom + b"ID" + sep + b"Name\n1" + sep + b"Zo\xc3\xab\n"
    assert read(data) == [(2, ("1", "Zo\u00eb", ""))]


def test_quoted_fields_with_delimiters_quotes_and_newlines_keep_line_numbers():
    data = b'id,note\n1,"a, ""quoted""\nsecond line"\n2,plain\n\n3,last\n'
    assert read(data) == [(2, ("1", "", 'a, "quoted"\nsecond line')), (4, ("2", "", "plain")), (6, ("3", "", "last"))]


def test_a_row_that_is_not_utf8_is_bad_alone():
    data = b"id,name\n1,ok\n2,caf\xe9\n3,fine\n"
    out = read(data)
    assert out[0] == (2, ("1", "ok", "")) and out[2] == (4, ("3", "fine", ""))
    assert out[1][0] == 3 and isinstance(out[1][1], BadRow)


def test_extra_fields_are_reported():
    out = read(b"id,name\n1,a,surprise\n")
    assert isinstance(out[0][1], BadRow) and "3 fields" in str(out[0][1])


def test_a_mapping_renames_foreign_headers_case_insensitively():
    present = set()
    out = list(rows(io.BytesIO(b"Customer ID;Full Name\n7;Ann\n"), {"customer id": "id", "FULL NAME": "name"},
                    COLUMNS, present))
    assert out == [(2, ("7", "Ann", ""))] and present == {"id", "name"}


def test_missing_required_columns_and_empty_files_are_user_errors():
    with pytest.raises(UserError, match="lacks the required column"):
        read(b"name\nAnn\n")
    with pytest.raises(UserError, match="empty"):
        read(b"")
