"""Microsoft Graph plumbing for the emulator's ``/v1.0`` routes (security today, directory next).

Build a Graph area from these pieces (see :mod:`mdekit.emulator.incidents.graph_routes`):

* :mod:`~mdekit.emulator.graph.errors` - ``APIRouter(route_class=GraphRoute, responses=GRAPH_ERRORS)``
  answers every failure in Graph's envelope (``innerError`` with the virtual-clock ``date``,
  ``request-id``, ``client-request-id``) and stamps both id headers on successes; raise
  :class:`GraphError` (or :func:`bad_request` / :func:`not_found`) from handlers; return
  :class:`GraphResponse` for Graph's JSON content type.
* :mod:`~mdekit.emulator.graph.auth` - ``Depends(require_graph("family.verb"))``: token for the
  Graph resource (401 ``InvalidAuthenticationToken``), one of the catalogue operation's roles (403;
  pass ``forbidden=`` for another area's wording, e.g. the directory's
  ``Authorization_RequestDenied``), throttling per app, tenant and operation family (429 +
  ``Retry-After``) from the operation's catalogue limit.
* :mod:`~mdekit.emulator.graph.odata` - describe a list with :class:`Collection`, parse the request
  with :func:`parse_query` (``$filter $top $skip $count $orderby $expand $select $skiptoken``;
  ``dependencies=[Depends(list_options)]`` documents them in the OpenAPI description), run
  ``query.where/params/order_sql/offset/limit`` against SQLite, answer with
  :func:`collection_answer` (``@odata.count``, ``@odata.nextLink`` with ``$skiptoken``).
* :mod:`~mdekit.emulator.graph.body` - :func:`read_json` and :func:`check_body` for PATCH/POST bodies,
  :func:`body_schema` to describe them (``openapi_extra=``).
"""

from mdekit.emulator.graph.auth import (
    Forbidden,
    allowed,
    directory_forbidden,
    graph_caller,
    require_graph,
    security_forbidden,
)
from mdekit.emulator.graph.body import Writable, body_schema, check_body, read_json
from mdekit.emulator.graph.errors import (
    GRAPH_ERRORS,
    GRAPH_JSON,
    GraphError,
    GraphResponse,
    GraphRoute,
    bad_request,
    error_body,
    error_response,
    not_found,
    stamp,
)
from mdekit.emulator.graph.odata import (
    Collection,
    GraphQuery,
    collection_answer,
    context_url,
    entity_options,
    list_options,
    parse_query,
    project,
)

__all__ = [
    "GRAPH_ERRORS",
    "GRAPH_JSON",
    "Collection",
    "Forbidden",
    "GraphError",
    "GraphQuery",
    "GraphResponse",
    "GraphRoute",
    "Writable",
    "allowed",
    "bad_request",
    "body_schema",
    "check_body",
    "collection_answer",
    "context_url",
    "directory_forbidden",
    "entity_options",
    "error_body",
    "error_response",
    "graph_caller",
    "list_options",
    "not_found",
    "parse_query",
    "project",
    "read_json",
    "require_graph",
    "security_forbidden",
    "stamp",
]
