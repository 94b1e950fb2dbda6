"""One GET to an online service, with every limit paperlike keeps and every failure as one line.

Only :mod:`paperlike.online` sends requests, and only when asked (``--online``, ``rank
--arxiv``, or the Python API). The standard library's ``urllib`` does it (no extra dependency):

* a User-Agent naming paperlike (and ``$PAPERLIKE_MAILTO`` when set, as Crossref asks);
* a timeout (``$PAPERLIKE_HTTP_TIMEOUT``, default 15 s) for the connection and for each read,
  and at most four times that for the whole answer, so a server that drips bytes cannot hold
  the command for ever;
* at most :data:`MAX_BODY_BYTES` of answer (more is an error, never read whole);
* only ``http`` and ``https`` URLs, redirects included (a base URL or a redirect to ``file:``
  or ``ftp:`` is refused);
* a pause between two requests to one service (arXiv asks for 3 s), counted per client;
* answers kept in :class:`~paperlike.storage.online_cache.ResponseCache` once they were read
  without error, so the same request is answered from disk next time.

Rate limits (HTTP 429 and 503), time-outs and an unreachable network each end in an
:class:`~paperlike.errors.OnlineError` whose message names the service and what to do.
"""

from __future__ import annotations

import email.utils
import http.client
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlsplit

from .._version import __version__
from ..errors import OnlineError
from ..readers.idlist import PAPER_FORMATS
from ..settings import ENV_HTTP_TIMEOUT, Settings
from ..storage.online_cache import ResponseCache
from ..text import clean_text, cut_words

__all__ = ["MAX_BODY_BYTES", "Service", "Http", "user_agent"]

log = logging.getLogger("paperlike")

T = TypeVar("T")

# The largest answer read: a listing of 1,000 arXiv papers is about 2.5 MB.
MAX_BODY_BYTES = 5_000_000
# The whole answer must come within this many times the timeout.
_WHOLE_ANSWER = 4
# A rate limit that does not say how long to wait: try again after this many seconds.
_DEFAULT_RETRY = 30
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Service:
    """An online service: its name in messages, its base URL, the setting that changes it, the
    pause between two requests it asks for, and whether the body of its HTTP 400 says what was
    wrong in the shape of an answer (arXiv's error entry)."""

    name: str
    base: str
    setting: str
    interval: float = 0.0
    explains_errors: bool = False

    def check(self) -> None:
        """Raises OnlineError when the base URL is not an http(s) URL with a host."""
        parts = urlsplit(self.base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            shown = cut_words(clean_text(self.base), 80)
            raise OnlineError(f"{self.setting} must be an http:// or https:// URL, got {shown!r}; fix or unset it")

    @property
    def host(self) -> str:
        return urlsplit(self.base).netloc


def user_agent(mailto: str | None) -> str:
    """The User-Agent of every request: paperlike and its version, and whom to write to if set."""
    contact = f"; mailto:{clean_text(mailto)}" if mailto and clean_text(mailto) else ""
    return f"paperlike/{__version__} (local paper recommender{contact})"


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) URLs only (urllib would also follow one to ``ftp:``)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise urllib.error.HTTPError(newurl, code, "redirect to a URL that is not http(s)", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _explained(exc: urllib.error.HTTPError, parse: Callable[[bytes], object]) -> None:
    """Raise the error ``parse`` finds in the body of an HTTP error (arXiv answers an id it cannot
    read with HTTP 400 and an error entry); nothing if it finds none."""
    try:
        body = exc.read(_CHUNK)
    except (OSError, http.client.HTTPException):
        return
    try:
        parse(body)
    except OnlineError:
        raise
    except Exception:  # noqa: BLE001 - only an explanation was looked for
        return


def _retry_after(value: str | None) -> int:
    """Seconds a ``Retry-After`` header asks to wait (a number or a date), between 1 and 3600."""
    seconds: float = _DEFAULT_RETRY
    text = (value or "").strip()
    if text.isdigit():
        seconds = int(text[:6])
    elif text:
        try:
            when = email.utils.parsedate_to_datetime(text)
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = (when - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return int(min(max(seconds, 1), 3600))


class Http:
    """Sends the requests of one command (or one Python session) and keeps their answers.

    Args:
        settings: Where the services are, the timeout, the cache folder, ``mailto``
            (default: :meth:`Settings.from_env`).
        cache: A response cache, None for none, or True for the one in the settings' cache folder.
        sleep: How to wait between two requests to one service (tests pass a recorder).

    Attributes:
        sent: Requests sent over the network.
        from_cache: Requests answered from the cache.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        cache: ResponseCache | bool | None = True,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.settings = settings if settings is not None else Settings.from_env()
        if cache is True:
            cache = ResponseCache(self.settings.online_cache_dir())
        self.cache: ResponseCache | None = cache or None
        self.sleep = sleep
        self.sent = 0
        self.from_cache = 0
        self._last: dict[str, float] = {}
        self._opener = urllib.request.build_opener(_HttpOnlyRedirects)

    def get(
        self, service: Service, url: str, parse: Callable[[bytes], T], *, max_age: float, missing_ok: bool = False
    ) -> T | None:
        """``parse(body)`` of the answer to ``url``, from the cache when it holds a sound answer
        younger than ``max_age`` seconds; None for HTTP 404 when ``missing_ok``.

        An answer is cached only after ``parse`` accepted it; a cached answer ``parse`` refuses
        is fetched again.

        Raises:
            OnlineError: The service cannot be reached, is too slow, limits the rate, answers
                an error or more than :data:`MAX_BODY_BYTES`, or ``parse`` refuses the answer.
        """
        service.check()
        if self.cache is not None:
            body = self.cache.get(url, max_age)
            if body is not None:
                try:
                    result = parse(body)
                except OnlineError:
                    log.debug("online cache: a saved answer was refused; fetching it again")
                else:
                    self.from_cache += 1
                    return result
        body = self._fetch(service, url, missing_ok, parse)
        if body is None:
            return None
        result = parse(body)
        if self.cache is not None:
            self.cache.put(url, body)
        return result

    def _pause(self, service: Service) -> None:
        last = self._last.get(service.name)
        if last is not None and service.interval > 0:
            wait = last + service.interval - time.monotonic()
            if wait > 0:
                self.sleep(wait)

    def _fetch(self, service: Service, url: str, missing_ok: bool, parse: Callable[[bytes], object]) -> bytes | None:
        self._pause(service)
        timeout = self.settings.http_timeout
        request = urllib.request.Request(url, headers={"User-Agent": user_agent(self.settings.mailto)})
        self.sent += 1
        log.debug("GET %s", url)
        try:
            with self._opener.open(request, timeout=timeout) as answer:
                return self._read(service, answer, time.monotonic() + _WHOLE_ANSWER * timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and missing_ok:
                return None
            if exc.code == 400 and service.explains_errors:  # the service's own explanation
                _explained(exc, parse)
            raise self._refused(service, exc) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._too_slow(service) from None
            raise self._unreachable(service, exc.reason) from None
        except TimeoutError:
            raise self._too_slow(service) from None
        except (http.client.HTTPException, OSError) as exc:
            raise OnlineError(
                f"the connection to {service.name} ({service.host}) broke ({clean_text(exc) or type(exc).__name__}); "
                "try again later"
            ) from None
        finally:
            self._last[service.name] = time.monotonic()

    def _read(self, service: Service, answer: http.client.HTTPResponse, deadline: float) -> bytes:
        length = answer.headers.get("Content-Length", "")
        if length.strip().isdigit() and int(length.strip()[:12]) > MAX_BODY_BYTES:
            raise self._too_big(service)
        chunks, size = [], 0
        while chunk := answer.read1(_CHUNK):  # what has come (read() would wait for the whole chunk)
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise self._too_big(service)
            if time.monotonic() > deadline:
                raise self._too_slow(service)
            chunks.append(chunk)
        return b"".join(chunks)

    def _refused(self, service: Service, exc: urllib.error.HTTPError) -> OnlineError:
        if exc.code in (429, 503):
            wait = _retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            return OnlineError(f"rate limited by {service.name} (HTTP {exc.code}), try again in {wait} s")
        reason = cut_words(clean_text(exc.reason), 60) if exc.reason else "no reason given"
        return OnlineError(f"{service.name} ({service.host}) answered HTTP {exc.code} ({reason}); try again later")

    def _too_slow(self, service: Service) -> OnlineError:
        return OnlineError(
            f"{service.name} ({service.host}) did not answer within {self.settings.http_timeout:g} s; "
            f"try again later, or wait longer with {ENV_HTTP_TIMEOUT}=60"
        )

    def _too_big(self, service: Service) -> OnlineError:
        return OnlineError(
            f"{service.name} ({service.host}) sent an answer of over {MAX_BODY_BYTES:,} bytes, more than paperlike reads; "
            "ask for fewer papers"
        )

    def _unreachable(self, service: Service, reason: object) -> OnlineError:
        why = getattr(reason, "strerror", None) or clean_text(reason) or "no reason given"
        return OnlineError(
            f"cannot reach {service.name} at {service.host} ({cut_words(clean_text(why), 60)}): this machine seems offline; "
            f"without --online, paperlike reads papers from files: {PAPER_FORMATS}"
        )
