"""Family methods one of whose ``api=`` choices answers another model, typed for both.

``client.alerts.get(id)`` is an MDE :class:`~mdekit.models.Alert`, ``client.alerts.get(id,
api="graph")`` a :class:`~mdekit.models.GraphAlert`. The descriptors here run exactly like
:class:`~mdekit.client.base.listing`, :class:`~mdekit.client.base.endpoint` and
:class:`~mdekit.client.base.procedure`; they only tell type checkers the second model::

    class Alerts(Family[C]):
        get = endpoint_or(_get, "graph", GraphAlert)   # _get(...) -> Call[Alert]; api="graph" -> GraphAlert

The builder is annotated with the default API's model and builds the other API's call when asked
(its result is that model at run time); :class:`Either` gives checkers the right one per call.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Generator
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    Literal,
    ParamSpec,
    Protocol,
    Self,
    TypeVar,
    overload,
)

from mdekit.client.base import AsyncClient, AsyncPager, Family, ListCall, Pager, SyncClient, _Declared
from mdekit.client.core import Call

__all__ = ["ApiName", "Either", "endpoint_or", "listing_or", "procedure_or"]

P = ParamSpec("P")
T = TypeVar("T")
U = TypeVar("U")
R_co = TypeVar("R_co", covariant=True)
S_co = TypeVar("S_co", covariant=True)
#: The APIs a family can be asked for (a Literal bound, so checkers keep the literal given).
ApiName = Literal["mde", "graph", "xdr"]
A = TypeVar("A", bound=ApiName)
A_contra = TypeVar("A_contra", bound=ApiName, contravariant=True)


class Either(Protocol[P, R_co, S_co, A_contra]):
    """A method answering ``S_co`` when called with ``api=<A_contra>`` and ``R_co`` otherwise."""

    @overload
    def __call__(self, *args: Any, api: A_contra, **kwargs: Any) -> S_co: ...
    @overload
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co: ...


class listing_or(_Declared[P, T], Generic[P, T, U, A]):
    """:class:`~mdekit.client.base.listing` whose ``api=<api>`` pages hold *model* items."""

    def __init__(self, build: Callable[P, ListCall[T]], api: A, model: type[U]) -> None:
        super().__init__(build)
        self._list = build

    if TYPE_CHECKING:

        @overload
        def __get__(self, family: None, owner: type) -> Self: ...
        @overload
        def __get__(self, family: Family[SyncClient], owner: type) -> Either[P, Pager[T], Pager[U], A]: ...
        @overload
        def __get__(
            self, family: Family[AsyncClient], owner: type
        ) -> Either[P, AsyncPager[T], AsyncPager[U], A]: ...
        def __get__(self, family: Any, owner: type) -> Any: ...  # _Declared.__get__ at run time

    def _invoke(self, family: Family[Any], /, *args: Any, **kwargs: Any) -> Any:
        return family._client.paginate(self._list(*args, **kwargs))


class endpoint_or(_Declared[P, T], Generic[P, T, U, A]):
    """:class:`~mdekit.client.base.endpoint` whose ``api=<api>`` answer is a *model*."""

    def __init__(self, build: Callable[P, Call[T]], api: A, model: type[U]) -> None:
        super().__init__(build)
        self._build = build

    if TYPE_CHECKING:

        @overload
        def __get__(self, family: None, owner: type) -> Self: ...
        @overload
        def __get__(self, family: Family[SyncClient], owner: type) -> Either[P, T, U, A]: ...
        @overload
        def __get__(
            self, family: Family[AsyncClient], owner: type
        ) -> Either[P, Coroutine[Any, Any, T], Coroutine[Any, Any, U], A]: ...
        def __get__(self, family: Any, owner: type) -> Any: ...  # _Declared.__get__ at run time

    def _invoke(self, family: Family[Any], /, *args: Any, **kwargs: Any) -> Any:
        return family._client.execute(self._build(*args, **kwargs))


class procedure_or(endpoint_or[P, T, U, A]):
    """:class:`~mdekit.client.base.procedure` whose ``api=<api>`` result is a *model* (typed as
    :class:`endpoint_or`, run as a flow)."""

    _hidden = 1  # the family instance

    def __init__(  # a flow, not a call builder: the endpoint's __init__ is not the one to run
        self, flow: Callable[Concatenate[Any, P], Generator[Any, Any, T]], api: A, model: type[U]
    ) -> None:
        _Declared.__init__(self, flow)
        self._flow = flow

    def _invoke(self, family: Family[Any], /, *args: Any, **kwargs: Any) -> Any:
        return family._client.run(self._flow(family, *args, **kwargs))
