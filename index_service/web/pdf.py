"""PDFs of pages, laid out by WeasyPrint (pango and Debian's fonts underneath) from a
template of their own that carries its stylesheet inline: the service needs no browser
and fetches nothing while it lays a page out."""

from __future__ import annotations

from typing import Any

from index_service.web.render import environment


def pdf_of(template: str, **context: Any) -> bytes:
    import weasyprint  # type: ignore[import-untyped]  # pango loads only when a PDF is asked for

    html = environment().get_template(template).render(**context)

    def no_fetching(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise ValueError(f"a PDF fetches nothing: {url}")

    document = weasyprint.HTML(string=html, url_fetcher=no_fetching)
    pdf: bytes = document.write_pdf()
    return pdf
