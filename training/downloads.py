"""Serving the training app's uploaded files (library resources, lesson attachments): always as
an attachment, under a safe name, with the Content-Type of its checked extension, never sniffed
or rendered inline. Who may download is decided by the caller (``visible_to``) before this."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.text import slugify

from training.forms import resource_content_type, resource_extension


def download_name(title: str, stored_name: str, *, fallback: str, version: str = "") -> str:
    """A safe file name: the title slugified (then the version), the stored file's extension."""
    stem = slugify(title)[:80] or fallback
    if version:
        stem = f"{stem}-{slugify(version)[:20]}".rstrip("-")
    return f"{stem}{resource_extension(stored_name)}"


def file_download(field_file, filename: str, *, missing: str) -> FileResponse:
    """The stored file as an attachment; 404 with ``missing`` when the file is gone."""
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404(missing) from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type=resource_content_type(field_file.name),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
