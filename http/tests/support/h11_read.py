#!/usr/bin/env python3
"""What h11 (an independent HTTP/1.1 implementation) reads from each connection's bytes,
for http/tests/differential.rs.

usage: h11_read.py CASES   (CASES: one connection's bytes per line, hex-encoded)

For each line, prints one line: the messages h11 read as a server, separated by " | ",
each either `reject` (a protocol error: h11 would answer 4xx/5xx and close) or
`method=<hex> target=<hex> version=<1.0|1.1> headers=<name>:<hex>,... body=<hex>`, the
same form the Rust side builds from simmer's requests. Header names are lower-cased,
values trimmed of spaces and tabs, Transfer-Encoding values lower-cased, and
Content-Length fields left out (the body and where the next request starts show the
framing). After a message h11 cannot keep the connection open for (HTTP/1.0, CONNECT,
Connection: close), `h11-closes` ends the line.
"""
import sys

import h11

OWS = b" \t"


def describe(request, body):
    headers = ",".join(
        f"{name.decode('latin-1').lower()}:{value.strip(OWS).hex()}"
        for name, value in request.headers.raw_items()
        if name.lower() != b"content-length"
    )
    return (
        f"method={request.method.hex()} target={request.target.hex()} "
        f"version={request.http_version.decode()} headers={headers} body={body.hex()}"
    )


def read_connection(data):
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    conn.receive_data(b"")  # the client has finished sending
    messages = []
    while True:
        request, body = None, b""
        try:
            while True:
                event = conn.next_event()
                if isinstance(event, h11.Request):
                    request = event
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
                else:  # ConnectionClosed (nothing more) or PAUSED
                    return messages
        except h11.RemoteProtocolError:
            return messages + ["reject"]
        messages.append(describe(request, body))
        # As the Rust side: 405 to CONNECT (a 2xx would turn it into a tunnel).
        status = 405 if request.method == b"CONNECT" else 200
        conn.send(h11.Response(status_code=status, headers=[("content-length", "0")]))
        conn.send(h11.EndOfMessage())
        if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
            return messages + ["h11-closes"]
        conn.start_next_cycle()


def main():
    with open(sys.argv[1]) as cases:
        for line in cases:
            print(" | ".join(read_connection(bytes.fromhex(line.strip()))))


if __name__ == "__main__":
    main()
