#!/usr/bin/env python3
"""A webhook receiver for scripts/bench-webhooks: answers every POST 204 at once and remembers it.

    scripts/webhook_receiver.py --port 9000 [--host 127.0.0.1 --host 127.0.0.2 ...]

asyncio streams and a minimal HTTP/1.1 parser (keep-alive, Content-Length or chunked bodies), so
that one Python process is not what limits a delivery-rate measurement. For each POST it records
the arrival time (time.time(), taken once the whole body is read), the path, the Standard Webhooks
headers and the raw body; nothing is checked while the clock runs.

Control routes (GET, answered with JSON):
  /_stats  {"count", "first", "last", "connections"}: messages so far, first and last arrival (Unix
           seconds), connections that carried a webhook
  /_dump   every record: [{"path", "id", "timestamp", "signature", "at", "body"}] (body as UTF-8 text)
  /_reset  forgets every record and zeroes the connection count (answers the count it had)
It prints "listening on PORT" once bound, and stops on SIGTERM or SIGINT.
"""
import argparse, asyncio, json, signal, sys, time

records = []
connections = [0]  # connections that carried a webhook (a client that keeps them alive opens few)


def answer(writer, status, payload=None, close=False):
    if payload is None:
        head = f"HTTP/1.1 {status}\r\n"
        data = b""
    else:
        data = json.dumps(payload).encode()
        head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(data)}\r\n"
    if close:
        head += "connection: close\r\n"
    writer.write(head.encode() + b"\r\n" + data)


async def read_chunked(reader):
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            # Trailers, up to the empty line.
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def handle(reader, writer):
    counted = False
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            lines = head.split(b"\r\n")
            method, target, version = lines[0].split(b" ", 2)
            headers = {}
            for line in lines[1:]:
                if line:
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
            if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                body = await read_chunked(reader)
            else:
                body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
            at = time.time()
            close = headers.get(b"connection", b"").lower() == b"close" or version == b"HTTP/1.0"
            path = target.decode()
            if method == b"POST" and not path.startswith("/_"):
                if not counted:
                    connections[0], counted = connections[0] + 1, True
                records.append((path, headers.get(b"webhook-id", b"").decode(), headers.get(b"webhook-timestamp", b"").decode(),
                                headers.get(b"webhook-signature", b"").decode(), at, body))
                answer(writer, "204 No Content", close=close)
            elif path == "/_stats":
                answer(writer, "200 OK", {"count": len(records), "first": records[0][4] if records else None,
                                          "last": records[-1][4] if records else None, "connections": connections[0]}, close)
            elif path == "/_dump":
                answer(writer, "200 OK", [{"path": r[0], "id": r[1], "timestamp": r[2], "signature": r[3], "at": r[4],
                                           "body": r[5].decode("utf-8", "replace")} for r in records], close)
            elif path == "/_reset":
                count = len(records)
                records.clear()
                connections[0] = 0
                answer(writer, "200 OK", {"count": count}, close)
            else:
                answer(writer, "404 Not Found", {"error": "not found"}, close)
            await writer.drain()
            if close:
                return
    except (ConnectionError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", action="append", help="address to listen on (repeatable; default 127.0.0.1)")
    args = parser.parse_args()
    server = await asyncio.start_server(handle, args.host or ["127.0.0.1"], args.port, backlog=1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"listening on {args.port}", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(130)
