"""A cheap closed-loop load generator: N concurrent clients on one asyncio loop, HTTP/1.1 and SMTP.

Deliberately minimal (raw asyncio streams, no HTTP library): on a 2-core machine the generator
competes with the servers it measures, so every microsecond it spends is taken from them. It is
the same code for every system measured, so the comparison stays fair; it is *not* free, and the
figures of all three systems are lower than on a machine with a separate load generator.

Each client sends one request, waits for the full response, and sends the next (closed loop), on a
kept-alive connection when the server allows it (gunicorn's sync workers close after each
response, and the client reconnects, counting the connect in the latency).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

REQUEST_TIMEOUT_S = 30.0

# (status, body) -> an acknowledgement id (e.g. the ticket reference), or None: an error.
AckParser = Callable[[int, bytes], "str | None"]
# sequence number -> (path, extra headers, body)
RequestMaker = Callable[[int], "tuple[str, dict[str, str], bytes]"]


@dataclass
class PhaseResult:
    clients: int
    duration_s: float = 0.0
    ok: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    acks: list[str] = field(default_factory=list)
    error_kinds: Counter = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.ok / self.duration_s if self.duration_s else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return math.nan
        data = sorted(self.latencies_ms)
        # Nearest-rank percentile: the value below which q of the samples lie.
        return data[min(len(data) - 1, max(0, math.ceil(q * len(data)) - 1))]


class _Closed(Exception):
    pass


async def _read_http_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep_alive). Content-Length and chunked bodies; HTTP/1.1."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2:
        raise _Closed(f"bad status line {lines[0]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    keep_alive = headers.get("connection", "").lower() != "close" and parts[0] == "HTTP/1.1"
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(chunks)
    else:
        body = await reader.read()
        keep_alive = False
    return status, body, keep_alive


async def run_http(
    *,
    targets: list[tuple[str, int]],
    clients: int,
    duration_s: float,
    make_request: RequestMaker,
    parse_ack: AckParser,
    host_header: str = "127.0.0.1",
    counter: itertools.count | None = None,
) -> PhaseResult:
    """``clients`` connections (spread round-robin over ``targets``), each in a closed loop until
    ``duration_s`` has passed; requests in flight at the deadline finish and count."""
    result = PhaseResult(clients=clients)
    seq = counter or itertools.count()
    start = time.perf_counter()
    deadline = start + duration_s

    async def client(idx: int) -> None:
        host, port = targets[idx % len(targets)]
        reader = writer = None
        while time.perf_counter() < deadline:
            n = next(seq)
            path, headers, body = make_request(n)
            head = [f"POST {path} HTTP/1.1", f"Host: {host_header}", f"Content-Length: {len(body)}"]
            head += [f"{k}: {v}" for k, v in headers.items()]
            raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
            t0 = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), REQUEST_TIMEOUT_S)
                writer.write(raw)
                status, rbody, keep = await asyncio.wait_for(_read_http_response(reader), REQUEST_TIMEOUT_S)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, _Closed) as exc:
                result.errors += 1
                result.error_kinds[type(exc).__name__] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.05)
                continue
            elapsed = (time.perf_counter() - t0) * 1000
            ack = parse_ack(status, rbody)
            if ack is None:
                result.errors += 1
                result.error_kinds[f"HTTP {status}"] += 1
            else:
                result.ok += 1
                result.latencies_ms.append(elapsed)
                result.acks.append(ack)
            if not keep:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(client(i) for i in range(clients)))
    result.duration_s = time.perf_counter() - start
    return result


# --- SMTP ------------------------------------------------------------------------------------

async def _smtp_reply(reader: asyncio.StreamReader) -> tuple[int, str]:
    lines = []
    while True:
        line = (await reader.readuntil(b"\r\n")).decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        if len(line) < 4 or line[3] != "-":
            break
    return int(lines[-1][:3]), lines[-1][4:]


async def run_smtp(
    *,
    host: str,
    port: int,
    clients: int,
    duration_s: float,
    make_mail: Callable[[int], tuple[str, str, bytes]],
    parse_ack: Callable[[int, str], str | None],
    counter: itertools.count | None = None,
) -> PhaseResult:
    """``clients`` SMTP sessions, each delivering one mail after the other (MAIL, RCPT, DATA) on
    its connection; the latency is from MAIL FROM to the reply to the final dot."""
    result = PhaseResult(clients=clients)
    seq = counter or itertools.count()
    start = time.perf_counter()
    deadline = start + duration_s

    async def session() -> None:
        reader = writer = None
        while time.perf_counter() < deadline:
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), REQUEST_TIMEOUT_S)
                    code, _ = await asyncio.wait_for(_smtp_reply(reader), REQUEST_TIMEOUT_S)
                    writer.write(b"EHLO loadgen.example.org\r\n")
                    code, _ = await asyncio.wait_for(_smtp_reply(reader), REQUEST_TIMEOUT_S)
                    if code != 250:
                        raise _Closed(f"EHLO {code}")
                n = next(seq)
                sender, rcpt, data = make_mail(n)
                t0 = time.perf_counter()
                writer.write(f"MAIL FROM:<{sender}>\r\n".encode())
                code, text = await asyncio.wait_for(_smtp_reply(reader), REQUEST_TIMEOUT_S)
                if code == 250:
                    writer.write(f"RCPT TO:<{rcpt}>\r\n".encode())
                    code, text = await asyncio.wait_for(_smtp_reply(reader), REQUEST_TIMEOUT_S)
                if code == 250:
                    writer.write(b"DATA\r\n")
                    code, text = await asyncio.wait_for(_smtp_reply(reader), REQUEST_TIMEOUT_S)
                    if code == 354:
                        # Dot-stuffing: a line starting with "." gets another one.
                        body = data.replace(b"\r\n.", b"\r\n..")
                        writer.write(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
                        code, text = await asyncio.wait_for(_smtp_reply(reader), REQUEST_TIMEOUT_S)
                elapsed = (time.perf_counter() - t0) * 1000
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, _Closed, ValueError) as exc:
                result.errors += 1
                result.error_kinds[type(exc).__name__] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.05)
                continue
            ack = parse_ack(code, text)
            if ack is None:
                result.errors += 1
                result.error_kinds[f"SMTP {code}"] += 1
                writer.write(b"RSET\r\n")
                await asyncio.wait_for(_smtp_reply(reader), REQUEST_TIMEOUT_S)
            else:
                result.ok += 1
                result.latencies_ms.append(elapsed)
                result.acks.append(ack)
        if writer is not None:
            try:
                writer.write(b"QUIT\r\n")
                await asyncio.wait_for(_smtp_reply(reader), 5)
            except Exception:  # noqa: BLE001 - closing anyway
                pass
            writer.close()

    await asyncio.gather(*(session() for _ in range(clients)))
    result.duration_s = time.perf_counter() - start
    return result
