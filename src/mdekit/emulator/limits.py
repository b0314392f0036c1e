"""Every size limit the emulator enforces on requests, in one place (the README's table).

Where the real service documents a limit it is used; elsewhere the value is a sensible bound,
marked so, which no real client comes near and which keeps a hostile request from freezing or
bloating the emulator.
"""

from __future__ import annotations

__all__ = [
    "BODY_LIMIT_BY_PATH",
    "MAX_BODY_BYTES",
    "MAX_DISPLAY_NAME",
    "MAX_DOMAIN",
    "MAX_FILTER_DEPTH",
    "MAX_FILTER_LENGTH",
    "MAX_FILTER_TERMS",
    "MAX_JSON_DEPTH",
    "MAX_PERMISSIONS",
    "MAX_REDIRECT_URI",
    "MAX_REDIRECT_URIS",
    "MAX_REQUEST_HEAD_BYTES",
    "MiB",
]

MiB = 1024 * 1024

#: Largest request body per surface (413 beyond it, in that surface's error envelope).
MAX_BODY_BYTES = {
    # Graph answers 413 "The maximum request length supported is 4MB." (python-o365#308).
    "graph": 4 * MiB,
    # The Defender API documents no body limit (UNVERIFIED); its largest documented bodies, an
    # indicator batch of 500 or a long KQL query, stay far below Graph's 4 MB, so the same bound.
    "mde": 4 * MiB,
    # Token requests are a few KB even with a certificate chain in the assertion (UNVERIFIED: Entra
    # documents no limit).
    "entra": 1 * MiB,
    # The emulator's own control plane: certificates, seeds and fault plans are small.
    "control": 1 * MiB,
}

#: Paths whose bodies may be larger than their surface allows (lower-case path -> bytes): the live
#: response library upload takes a file of up to 20 MB (upload-library) in a multipart body.
BODY_LIMIT_BY_PATH = {"/api/libraryfiles": 21 * MiB}

#: Deepest nesting of JSON arrays/objects in any request body (the service's bodies are 3 deep).
MAX_JSON_DEPTH = 32

#: Longest request line plus headers the HTTP parser takes. httptools (llhttp, what uvicorn uses
#: when the ``emulator`` extra is installed) refuses heads near 80 KiB with a plain-text 400 and no
#: setting moves that; h11 (the fallback) gets the same limit so both parsers agree. 64 KiB holds a
#: ``$filter`` of a thousand ids (about 52 KB URL-encoded); beyond it the request never reaches the
#: app and gets the parser's 400, as a front end (HTTP.sys, Front Door) refuses overlong requests.
MAX_REQUEST_HEAD_BYTES = 64 * 1024

#: ``$filter``: longest expression (characters), most comparisons, deepest nesting of
#: parentheses and ``not``. Real clients build ``id eq 'a' or id eq 'b' ...`` lists of hundreds of
#: ids; ASP.NET OData's default ``MaxNodeCount`` (100) would refuse them, the emulator does not.
MAX_FILTER_LENGTH = 512 * 1024
MAX_FILTER_TERMS = 5_000
MAX_FILTER_DEPTH = 32

#: Directory fields (control plane). Redirect URIs: Entra documents at most 256 per app, each at
#: most 256 characters ("Redirect URI (reply URL) restrictions"); display names: 256 characters,
#: as Entra's portal enforces for app names (UNVERIFIED for tenants); domains: a DNS name.
MAX_DISPLAY_NAME = 256
MAX_DOMAIN = 253
MAX_REDIRECT_URIS = 256
MAX_REDIRECT_URI = 256
#: Requested permissions per app (every built-in role of every resource fits several times over).
MAX_PERMISSIONS = 400
