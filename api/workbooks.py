"""A product's tables as an xlsx download: one response for every route that offers ``format=xlsx``."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from nimgraph.exports.tables import XLSX_MEDIA_TYPE, product_workbook

# For a route's responses: it answers JSON, a page, or the workbook.
PAGE_OR_TABLES = {
    200: {"content": {"text/html": {}, XLSX_MEDIA_TYPE: {}}, "description": "The product, as JSON, a page or tables"}
}


def tables_download(product: dict[str, Any], notice: str | None, name: str) -> Response:
    """``product``'s tables, a sheet each, with its handling code (and the clearance notice) on a Notes sheet."""
    return Response(
        product_workbook(product, notice),
        media_type=XLSX_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="nimgraph-{name}.xlsx"',
            "X-Handling-Code": str(product.get("handling") or ""),
        },
    )
