#!/usr/bin/env python3
# make_demo.py -- writes demo/issues.json and demo/comments.json, the invented
# tracker of the imaginary project "doppel-demo/tinyhttp" that `make demo`
# imports. The content lives here, readable; the JSON files are its output
# and are checked in so the demo needs nothing but the doppel binary.
#
# Everything below is made up: the project, the people, the bugs. The
# planted duplicate and related pairs are listed in demo/README.md (the
# answer key that tests/cli/test_demo.sh reads); keep both in step.
#
#   python3 demo/make_demo.py        (from the repository root)
#
# The output is deterministic: ids, node ids and timestamps derive from the
# item numbers and the dates written here, so re-running changes nothing.
import base64
import json
import os
from datetime import datetime, timedelta, timezone

OWNER, NAME = "doppel-demo", "tinyhttp"
REPO = f"{OWNER}/{NAME}"
API = f"https://api.github.com/repos/{REPO}"
WEB = f"https://github.com/{REPO}"

# login -> (user id, type, author_association in this repository)
USERS = {
    "mkowalczyk": (41890233, "User", "OWNER"),
    "jtanaka-dev": (58201174, "User", "MEMBER"),
    "ochen42": (77120398, "User", "CONTRIBUTOR"),
    "lena-w": (9034417, "User", "CONTRIBUTOR"),
    "pbalogun": (112903745, "User", "NONE"),
    "rustyfjord": (63318820, "User", "CONTRIBUTOR"),
    "kvoss": (23004516, "User", "NONE"),
    "amir-h": (130442981, "User", "NONE"),
    "tomasz-dev": (88710352, "User", "CONTRIBUTOR"),
    "gg-ramirez": (45519906, "User", "NONE"),
    "devnull-sam": (71263049, "User", "NONE"),
    "yuki-m": (99182730, "User", "NONE"),
    "hvasquez": (15520871, "User", "NONE"),
    "b-lindqvist": (140227718, "User", "NONE"),
    "noor-a": (36651209, "User", "NONE"),
    "fpetrov": (54471036, "User", "NONE"),
    "cwright-iot": (128830561, "User", "NONE"),
    "dependabot[bot]": (49699333, "Bot", "CONTRIBUTOR"),
    "github-actions[bot]": (41898282, "Bot", "NONE"),
}

# name -> (colour, description, GitHub default label?)
LABELS = {
    "bug": ("d73a4a", "Something isn't working", True),
    "enhancement": ("a2eeef", "New feature or request", True),
    "documentation": ("0075ca", "Improvements or additions to documentation", True),
    "question": ("d876e3", "Further information is requested", True),
    "duplicate": ("cfd3d7", "This issue or pull request already exists", True),
    "wontfix": ("ffffff", "This will not be worked on", True),
    "good first issue": ("7057ff", "Good for newcomers", True),
    "tls": ("5319e7", "TLS backends (OpenSSL, mbedTLS)", False),
    "build": ("fbca04", "Build system, packaging, CI", False),
    "windows": ("1d76db", "Windows and MSVC", False),
    "python": ("3572a5", "Python bindings (tinyhttp-py)", False),
    "http-parsing": ("c5def5", "Response parsing: status line, headers, framing", False),
    "performance": ("f9d0c4", "", False),
    "needs-info": ("fef2c0", "Waiting for more information from the reporter", False),
    "dependencies": ("0366d6", "Pull requests that update a dependency file", False),
}

BUG_CHECKLIST = ("### Checklist\n\n"
                 "- [x] I searched existing issues\n"
                 "- [x] I can reproduce this with the latest release\n")
BUG_CHECKLIST_LAZY = ("### Checklist\n\n"
                      "- [ ] I searched existing issues\n"
                      "- [x] I can reproduce this with the latest release\n")


def bug(describe, steps, expected, env, checklist=BUG_CHECKLIST, extra=""):
    """The project's bug report template, filled in."""
    out = (f"### Describe the bug\n\n{describe.strip()}\n\n"
           f"### Steps to reproduce\n\n{steps.strip()}\n\n"
           f"### Expected behavior\n\n{expected.strip()}\n\n"
           f"### Environment\n\n{env.strip()}\n\n")
    if extra:
        out += f"### Additional context\n\n{extra.strip()}\n\n"
    return out + checklist


def feature(problem, solution, alternatives="_No response_"):
    """The project's feature request template, filled in."""
    return (f"### Is your feature request related to a problem?\n\n{problem.strip()}\n\n"
            f"### Describe the solution you'd like\n\n{solution.strip()}\n\n"
            f"### Alternatives you've considered\n\n{alternatives.strip()}\n\n"
            "- [x] I searched existing issues and discussions\n")


# Each item: n, kind ("issue"/"pr"), user, created (UTC), title, labels, state,
# state_reason, closed (days after created, or ("by", N) = when PR N merged),
# body, comments [(user, days after created, body)], reactions {kind: count};
# PRs add merged (bool) and draft (bool).
ITEMS = []


def add(**kw):
    ITEMS.append(kw)


# ---------------------------------------------------------------- 2023 ----
add(n=1, kind="issue", user="ochen42", created="2023-03-04T09:12:44Z",
    title="pkg-config file is missing Libs.private for OpenSSL",
    labels=["bug", "build"], state="closed", state_reason="completed", closed=("by", 3),
    body=bug(
        "Linking statically against `libtinyhttp.a` fails because `tinyhttp.pc` does not "
        "list the TLS libraries in `Libs.private`, so `pkg-config --static --libs tinyhttp` "
        "returns only `-ltinyhttp`.",
        "1. `cmake -B build -DBUILD_SHARED_LIBS=OFF && cmake --build build && sudo cmake --install build`\n"
        "2. `cc -static app.c $(pkg-config --static --cflags --libs tinyhttp)`\n\n"
        "```\n/usr/bin/ld: /usr/local/lib/libtinyhttp.a(tls_openssl.c.o): in function `th_tls_handshake':\n"
        "tls_openssl.c:(.text+0x2b1): undefined reference to `SSL_CTX_new'\n"
        "/usr/bin/ld: tls_openssl.c:(.text+0x2d9): undefined reference to `SSL_set_tlsext_host_name'\n"
        "collect2: error: ld returned 1 exit status\n```",
        "`Libs.private: -lssl -lcrypto -lpthread` (or `Requires.private: openssl`).",
        "- tinyhttp version: 1.0.0\n- OS: Alpine 3.17 (musl)\n- TLS backend: OpenSSL 3.0.8\n- Compiler: gcc 12.2"),
    comments=[("mkowalczyk", 0.4, "Good catch, `Requires.private: openssl` is the right fix since OpenSSL ships its own `.pc`. PR welcome, otherwise I'll do it this week.")])

add(n=2, kind="issue", user="pbalogun", created="2023-03-11T16:40:02Z",
    title="How do I set a custom User-Agent?",
    labels=["question"], state="closed", state_reason="completed", closed=1.2,
    body="Hi! Probably a silly question, but I couldn't find it in the README. Every request goes out "
         "with `User-Agent: tinyhttp/1.0.0` and one of the APIs I call rejects that. Is there an option "
         "to change it, or do I add the header myself?\n\nThanks for the nice little library.",
    comments=[("jtanaka-dev", 0.3, "Either works. The option is the cleaner one:\n\n```c\nth_opt_set(req, TH_OPT_USER_AGENT, \"my-app/2.1\");\n```\n\nIf you add a `User-Agent` header with `th_request_add_header()` it replaces the default one."),
              ("pbalogun", 1.1, "Perfect, thank you!")])

add(n=3, kind="pr", user="ochen42", created="2023-03-13T08:05:31Z",
    title="build: add Requires.private to tinyhttp.pc.in",
    labels=["build"], state="closed", state_reason=None, closed=2.1, merged=True, draft=False,
    body="Fixes #1.\n\nAdds `Requires.private: openssl` (or `mbedtls` when `TH_TLS_BACKEND=mbedtls`) "
         "and `Libs.private: -lpthread`, so static linking via `pkg-config --static` works.\n\n"
         "Tested on Alpine 3.17 with a fully static `examples/get`.",
    comments=[("mkowalczyk", 2.0, "Thanks! :+1:")])

add(n=4, kind="issue", user="rustyfjord", created="2023-03-29T21:17:09Z",
    title="Segfault in th_tls_handshake when server sends empty certificate chain",
    labels=["bug", "tls"], state="closed", state_reason="completed", closed=("by", 6),
    body=bug(
        "The client crashes with SIGSEGV during the TLS handshake when the server presents no "
        "certificate at all (our test harness does this on purpose to check error handling). I'd "
        "expect a `TH_ETLS` error instead of a crash.",
        "1. Start a TLS server without a certificate, e.g. `openssl s_server -nocert -psk 1a2b -port 4443`\n"
        "2. `./examples/get https://10.0.3.7:4443/`\n\n"
        "```\n$ gdb --args ./examples/get https://10.0.3.7:4443/\n(gdb) run\n"
        "Program received signal SIGSEGV, Segmentation fault.\n"
        "0x00007ffff7f3a2c4 in X509_get_subject_name () from /lib/x86_64-linux-gnu/libcrypto.so.3\n"
        "(gdb) bt\n"
        "#0  0x00007ffff7f3a2c4 in X509_get_subject_name () from /lib/x86_64-linux-gnu/libcrypto.so.3\n"
        "#1  0x00005555555603b1 in th_tls_verify_chain (conn=0x5555555a72a0) at src/tls_openssl.c:211\n"
        "#2  0x0000555555560b8e in th_tls_handshake (conn=0x5555555a72a0, host=0x5555555a7010 \"10.0.3.7\") at src/tls_openssl.c:158\n"
        "#3  0x000055555555e6f2 in th_conn_open (req=0x5555555a6eb0) at src/conn.c:97\n"
        "#4  0x000055555555d1a8 in th_request_perform (req=0x5555555a6eb0) at src/request.c:244\n"
        "#5  0x000055555555c3e5 in main (argc=2, argv=0x7fffffffe0a8) at examples/get.c:31\n```",
        "`th_request_perform()` returns `TH_ETLS` with a message like \"server sent no certificate\".",
        "- tinyhttp version: 1.0.0 and main (a41c9e2)\n- OS: Ubuntu 22.04\n- TLS backend: OpenSSL 3.0.2\n- Compiler: gcc 11.3",
        extra="Looking at `tls_openssl.c:205`, the result of `SSL_get_peer_certificate()` is passed to "
              "`X509_get_subject_name()` without a NULL check."),
    comments=[("mkowalczyk", 0.6, "Confirmed, thanks for the great report. `SSL_get_peer_certificate()` returns NULL when the peer sent no certificate (PSK, anonymous suites), and we never check. Will fix."),
              ("rustyfjord", 0.9, "I can send a PR with a regression test if you like."),
              ("mkowalczyk", 1.0, "Yes please!")],
    reactions={"+1": 2})

add(n=5, kind="issue", user="amir-h", created="2023-04-08T11:02:55Z",
    title="Support for HTTP/2",
    labels=["enhancement"], state="open", state_reason=None,
    body=feature(
        "Many of the APIs we talk to are served over HTTP/2 only behind their CDN, and HTTP/1.1 "
        "connection limits hurt when we fan out ~50 requests at once.",
        "Optional HTTP/2 support (ALPN `h2`), maybe on top of nghttp2 as a build option "
        "(`-DTH_WITH_NGHTTP2=ON`), with multiplexed requests on one connection.",
        "Using libcurl, but we picked tinyhttp for its size and simple API."),
    comments=[("mkowalczyk", 1.5, "I'd like that eventually, but it's a big change to the connection model (`th_conn` assumes one request at a time). Not before 2.0. Leaving this open to collect use cases."),
              ("devnull-sam", 30, "+1, same use case here."),
              ("gg-ramirez", 62, "Would a PR adding ALPN negotiation only (no h2 yet) be accepted as a first step?"),
              ("mkowalczyk", 63, "Yes, ALPN plumbing is welcome on its own; see `th_tls_handshake()`."),
              ("b-lindqvist", 190, "Any news on this?"),
              ("hvasquez", 301, "We'd sponsor this work if someone is interested."),
              ("jtanaka-dev", 305, "Thanks @hvasquez, let's talk on the mailing list."),
              ("amir-h", 420, "Still interested :slightly_smiling_face:")],
    reactions={"+1": 31, "heart": 4, "rocket": 3, "eyes": 2})

add(n=6, kind="pr", user="rustyfjord", created="2023-04-12T07:48:20Z",
    title="tls: handle missing peer certificate in th_tls_verify_chain",
    labels=["bug", "tls"], state="closed", state_reason=None, closed=3.3, merged=True, draft=False,
    body="Fixes #4.\n\n`SSL_get_peer_certificate()` returns NULL when the server sends no certificate "
         "(PSK or anonymous cipher suites, broken servers). `th_tls_verify_chain()` passed it straight to "
         "`X509_get_subject_name()`, which crashes.\n\nNow the handshake fails with `TH_ETLS` and "
         "`\"server sent no certificate\"`.\n\n- adds `tests/tls/test_empty_chain.c` (runs `openssl s_server -nocert`)\n"
         "- frees the certificate with `X509_free()` on every path (it leaked before)",
    comments=[("mkowalczyk", 3.2, "LGTM, thanks a lot. Will be in 1.1.0.")])

add(n=7, kind="issue", user="tomasz-dev", created="2023-04-26T13:33:41Z",
    title="Windows: build fails with LNK2019 unresolved external symbol __imp_getaddrinfo",
    labels=["bug", "build", "windows"], state="closed", state_reason="completed", closed=("by", 9),
    body=bug(
        "Building the shared library with Visual Studio fails at link time:",
        "```\ncmake -B build -G \"Visual Studio 17 2022\" -A x64\ncmake --build build --config Release\n```\n\n"
        "```\nconn.obj : error LNK2019: unresolved external symbol __imp_getaddrinfo referenced in function th_conn_resolve [C:\\src\\tinyhttp\\build\\tinyhttp.vcxproj]\n"
        "conn.obj : error LNK2019: unresolved external symbol __imp_freeaddrinfo referenced in function th_conn_resolve [C:\\src\\tinyhttp\\build\\tinyhttp.vcxproj]\n"
        "conn.obj : error LNK2019: unresolved external symbol __imp_WSAStartup referenced in function th_global_init [C:\\src\\tinyhttp\\build\\tinyhttp.vcxproj]\n"
        "C:\\src\\tinyhttp\\build\\Release\\tinyhttp.dll : fatal error LNK1120: 3 unresolved externals\n```",
        "The DLL links.",
        "- tinyhttp version: 1.0.0\n- OS: Windows 11 22H2\n- Compiler: MSVC 19.35 (VS 2022 17.5)\n- TLS backend: OpenSSL 3.1 from vcpkg",
        extra="Looks like `ws2_32` is never added to `target_link_libraries` on WIN32."),
    comments=[("jtanaka-dev", 0.2, "Right, the CMake file only links ws2_32 for the examples. I'll fix it.")])

add(n=8, kind="issue", user="kvoss", created="2023-05-09T19:20:15Z",
    title="Is tinyhttp thread-safe?",
    labels=["question"], state="closed", state_reason="completed", closed=2.0,
    body="Can I share one `th_client` between threads, or do I need one per thread? The header "
         "doesn't say. I'm calling `th_request_perform()` from a pool of 8 workers.",
    comments=[("mkowalczyk", 0.5, "One `th_client` per thread, or protect it with your own mutex. Requests from the same client share the connection pool, which is not locked. `th_global_init()` must be called once before any thread starts.\n\nI'll add a \"Thread safety\" section to the README."),
              ("kvoss", 1.9, "Thanks, that explains the crashes I saw. One client per worker it is.")])

add(n=9, kind="pr", user="jtanaka-dev", created="2023-05-15T10:11:06Z",
    title="cmake: link ws2_32 and crypt32 on Windows",
    labels=["build", "windows"], state="closed", state_reason=None, closed=0.9, merged=True, draft=False,
    body="Fixes #7.\n\n```cmake\nif(WIN32)\n  target_link_libraries(tinyhttp PRIVATE ws2_32 crypt32)\nendif()\n```\n\n"
         "Also adds a `windows-latest` job to CI so this doesn't regress.",
    comments=[])

add(n=10, kind="issue", user="fpetrov", created="2023-05-30T08:57:39Z",
    title="MSVC 2022: cannot link tinyhttp.lib (getaddrinfo / freeaddrinfo missing)",
    labels=["windows", "duplicate"], state="closed", state_reason="not_planned", closed=0.3,
    body=bug(
        "I installed tinyhttp with vcpkg and my project no longer links after adding it:",
        "```\n1>tinyhttp.lib(conn.obj) : error LNK2019: unresolved external symbol __imp_freeaddrinfo referenced in function th_conn_resolve\n"
        "1>tinyhttp.lib(conn.obj) : error LNK2019: unresolved external symbol __imp_getaddrinfo referenced in function th_conn_resolve\n"
        "1>D:\\work\\sensor-gw\\x64\\Debug\\sensor-gw.exe : fatal error LNK1120: 2 unresolved externals\n```",
        "It links without me having to know tinyhttp's private dependencies.",
        "- tinyhttp version: 1.0.0 (vcpkg port)\n- Windows 10, Visual Studio 2022 17.6\n- static triplet x64-windows-static",
        checklist=BUG_CHECKLIST_LAZY),
    comments=[("jtanaka-dev", 0.25, "Duplicate of #7\n\nFixed on main by #9; it will be in 1.1.0. Until then, add `ws2_32.lib` to your linker inputs."),
              ("fpetrov", 0.5, "Ah sorry, I searched for LNK1120 only. Thanks!")])

add(n=11, kind="pr", user="mkowalczyk", created="2023-06-12T15:00:00Z",
    title="Release 1.1.0",
    labels=[], state="closed", state_reason=None, closed=0.1, merged=True, draft=False,
    body="## 1.1.0\n\n### Fixed\n- TLS: crash when the server sends no certificate (#6)\n"
         "- Windows: link ws2_32 and crypt32 (#9)\n- pkg-config: static linking (#3)\n\n"
         "### Added\n- `TH_OPT_USER_AGENT`\n- Windows CI job\n\nABI compatible with 1.0.x.",
    comments=[])

add(n=12, kind="issue", user="lena-w", created="2023-06-20T12:44:18Z",
    title="Chunked responses with chunk extensions fail with TH_EPROTO",
    labels=["bug", "http-parsing"], state="closed", state_reason="completed", closed=("by", 14),
    body=bug(
        "Responses using `Transfer-Encoding: chunked` fail when a chunk-size line carries a chunk "
        "extension (`1a;name=value`). Chunk extensions are rare but legal (RFC 9112, section 7.1.1).",
        "Minimal server:\n\n```python\nimport socket\ns = socket.create_server((\"127.0.0.1\", 8099))\n"
        "c, _ = s.accept(); c.recv(4096)\n"
        "c.sendall(b\"HTTP/1.1 200 OK\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n\"\n"
        "          b\"5;foo=bar\\r\\nhello\\r\\n0\\r\\n\\r\\n\")\n```\n\n"
        "```\n$ th-get -v http://127.0.0.1:8099/\n> GET / HTTP/1.1\n< HTTP/1.1 200 OK\n< Transfer-Encoding: chunked\n"
        "th-get: th_request_perform: protocol error (TH_EPROTO): malformed chunk size\n```",
        "The body `hello` is returned and the extension is ignored.",
        "- tinyhttp version: 1.1.0\n- OS: Debian 12\n- Compiler: clang 14",
        extra="`th_chunked_parse_size()` in `src/chunked.c` calls `strtoul()` and then requires the "
              "next byte to be `\\r`, so anything after the hex digits is rejected."),
    comments=[("mkowalczyk", 1.0, "Thanks! Yes, we should skip everything up to CRLF after the size. Want to make a PR?"),
              ("lena-w", 2.2, "Sure, on it.")])

add(n=13, kind="issue", user="gg-ramirez", created="2023-07-02T18:09:51Z",
    title="Add option to set minimum TLS version",
    labels=["enhancement", "tls"], state="open", state_reason=None,
    body=feature(
        "Our security policy requires TLS 1.2 or newer. tinyhttp uses the backend defaults, which "
        "on some older embedded OpenSSL builds still allow TLS 1.0.",
        "An option like `th_opt_set(req, TH_OPT_TLS_MIN_VERSION, TH_TLS_1_2)` mapped to "
        "`SSL_CTX_set_min_proto_version()` / `mbedtls_ssl_conf_min_tls_version()`.",
        "Patching `th_tls_ctx_new()` locally."),
    comments=[("mkowalczyk", 3.0, "Makes sense. We should also consider a max version for testing. Labelled for the next minor."),
              ("cwright-iot", 400, "Would love this too, our auditors flagged the same thing.")],
    reactions={"+1": 6})

add(n=14, kind="pr", user="lena-w", created="2023-07-10T09:30:27Z",
    title="chunked: ignore chunk extensions (RFC 9112 7.1.1)",
    labels=["bug", "http-parsing"], state="closed", state_reason=None, closed=1.7, merged=True, draft=False,
    body="Fixes #12.\n\nAfter the hex chunk size, `th_chunked_parse_size()` now skips optional whitespace and "
         "any `;ext[=value]` up to the CRLF instead of returning `TH_EPROTO`. Bare LF is still rejected.\n\n"
         "Tests: `tests/http/test_chunked.c` gains cases for `5;foo=bar`, `5 ; foo`, quoted values, and a "
         "64 KiB extension (rejected as too long).",
    comments=[("jtanaka-dev", 0.8, "Nice. Could you also cap the extension length? Otherwise a server can make us read forever."),
              ("lena-w", 1.1, "Done, capped at 4 KiB and added the test."),
              ("jtanaka-dev", 1.6, "Thanks, merging.")])

add(n=15, kind="issue", user="devnull-sam", created="2023-07-24T14:22:03Z",
    title="Infinite redirect loop when Location header is relative",
    labels=["bug"], state="closed", state_reason="completed", closed=("by", 17),
    body=bug(
        "With `TH_OPT_FOLLOW_REDIRECTS` on, a server answering `302` with a relative `Location` "
        "(e.g. `Location: login?next=%2F`) makes the client loop until it runs out of file descriptors.",
        "```\n$ th-get -L -v http://127.0.0.1:5000/app\n< HTTP/1.1 302 FOUND\n< Location: login?next=%2Fapp\n"
        "> GET /login?next=%2Fapp HTTP/1.1\n> Host: login?next=%2Fapp\n< HTTP/1.1 400 Bad Request\n"
        "...\nth-get: connect: Too many open files\n```\n\n(the Host header is wrong too)",
        "The relative reference is resolved against the request URL (RFC 3986 section 5.2) and the client stops after some limit.",
        "- tinyhttp version: 1.1.0\n- OS: macOS 13.4\n- Compiler: Apple clang 14"),
    comments=[("mkowalczyk", 0.5, "Ouch. We treat the Location value as an absolute URL. Will fix the resolution; a redirect limit is a separate question.")])

add(n=16, kind="issue", user="lena-w", created="2023-08-03T20:47:36Z",
    title="Python bindings: timeout= keyword is ignored, request hangs forever",
    labels=["bug", "python"], state="closed", state_reason="completed", closed=("by", 19),
    body=bug(
        "In the Python bindings, `tinyhttp.get(url, timeout=2.5)` never times out when the host "
        "doesn't answer. I have to Ctrl-C:",
        "```python\nimport tinyhttp\nr = tinyhttp.get(\"http://10.255.255.1/\", timeout=2.5)\n```\n\n"
        "```\n^CTraceback (most recent call last):\n  File \"/home/lena/fetch.py\", line 7, in <module>\n"
        "    r = tinyhttp.get(\"http://10.255.255.1/\", timeout=2.5)\n"
        "  File \"/usr/lib/python3/dist-packages/tinyhttp/__init__.py\", line 88, in get\n"
        "    return _session().request(\"GET\", url, **kw)\n"
        "  File \"/usr/lib/python3/dist-packages/tinyhttp/session.py\", line 142, in request\n"
        "    rc = _lib.th_request_perform(req)\nKeyboardInterrupt\n```",
        "`tinyhttp.TimeoutError` after 2.5 seconds, like the C API does with `TH_OPT_TIMEOUT_MS`.",
        "- tinyhttp-py 1.1.0 (pip), libtinyhttp 1.1.0\n- Python 3.11.4\n- Debian 12",
        extra="In `session.py` the timeout is passed as `int(timeout)` to `TH_OPT_TIMEOUT_MS`... so "
              "2.5 becomes 2 ms? But then it should fail fast, not hang. Confused."),
    comments=[("jtanaka-dev", 0.7, "Found it: `session.py` sets the option on the *session* object but `request()` creates a fresh `th_request` that never sees it, so the C default (no timeout) applies. And yes, the unit is wrong as well."),
              ("lena-w", 1.0, "Makes sense, thanks for looking!")],
    reactions={"+1": 3})

add(n=17, kind="pr", user="mkowalczyk", created="2023-08-08T06:58:12Z",
    title="redirect: resolve relative Location against the request URL",
    labels=["bug"], state="closed", state_reason=None, closed=1.1, merged=True, draft=False,
    body="Fixes #15.\n\n- implements RFC 3986 reference resolution in `th_url_resolve()` (with the "
         "test vectors from section 5.4)\n- the redirect loop now stops after 20 hops with `TH_EREDIRECT`\n"
         "- `Host` is recomputed from the resolved URL",
    comments=[])

add(n=18, kind="issue", user="kvoss", created="2023-08-21T10:15:49Z",
    title="Document the ownership rules of th_response_body()",
    labels=["documentation"], state="open", state_reason=None,
    body="The header says `const char *th_response_body(const th_response *r, size_t *len);` but not "
         "how long the pointer stays valid. Is it freed by `th_response_free()`? By the next "
         "`th_request_perform()` on the same request? I ended up copying it defensively everywhere.\n\n"
         "It would help to have a short \"Memory ownership\" section in `include/tinyhttp.h` covering "
         "all functions that return pointers.",
    comments=[("mkowalczyk", 2.0, "Agreed. Short answer: valid until `th_response_free()`. But a section for all getters is a good idea; marking as documentation.")])

add(n=19, kind="pr", user="jtanaka-dev", created="2023-08-29T17:36:05Z",
    title="python: apply session timeout to every request, in milliseconds",
    labels=["bug", "python"], state="closed", state_reason=None, closed=2.0, merged=True, draft=False,
    body="Fixes #16.\n\n- `Session.request()` copies the session options onto the new `th_request`\n"
         "- `timeout` (seconds, float) is converted with `int(timeout * 1000)` for `TH_OPT_TIMEOUT_MS`\n"
         "- a connect timeout raises `tinyhttp.TimeoutError` instead of the generic `tinyhttp.Error`\n"
         "- test: `tests/python/test_timeout.py` against a blackhole address",
    comments=[("mkowalczyk", 1.9, "Great, thanks.")])

add(n=20, kind="issue", user="yuki-m", created="2023-09-14T08:03:22Z",
    title="tinyhttp.get(url, timeout=1) never times out on unreachable host",
    labels=["python", "duplicate"], state="closed", state_reason="not_planned", closed=0.4,
    body="When the server is down (firewall drops packets), `tinyhttp.get()` blocks forever even with "
         "`timeout=1`. It only returns when I press Ctrl-C:\n\n"
         "```\nTraceback (most recent call last):\n  File \"C:\\Users\\yuki\\tools\\check.py\", line 12, in <module>\n"
         "    resp = tinyhttp.get(u, timeout=1)\n"
         "  File \"C:\\Python311\\Lib\\site-packages\\tinyhttp\\__init__.py\", line 88, in get\n"
         "    return _session().request(\"GET\", url, **kw)\n"
         "  File \"C:\\Python311\\Lib\\site-packages\\tinyhttp\\session.py\", line 142, in request\n"
         "    rc = _lib.th_request_perform(req)\nKeyboardInterrupt\n```\n\n"
         "tinyhttp-py 1.1.0 on Windows 10, Python 3.11.5. `requests` with the same timeout gives up after 1 second.",
    comments=[("jtanaka-dev", 0.35, "Closing as duplicate of #16 -- the session timeout never reached the request. It's fixed on main by #19 and will ship in 1.2.0.")])

add(n=21, kind="issue", user="hvasquez", created="2023-10-02T22:41:57Z",
    title="Random crashes under load with keep-alive enabled",
    labels=["bug", "needs-info"], state="closed", state_reason="not_planned", closed=64.0,
    body=bug(
        "Our load generator (16 threads, one `th_client` each, keep-alive on) crashes after a few "
        "minutes, not always at the same place. Valgrind shows this every time before the crash:",
        "Run the load generator against nginx with `keepalive_timeout 5s` for ~10 minutes:\n\n"
        "```\n==48213== Thread 7:\n==48213== Invalid read of size 8\n"
        "==48213==    at 0x4E5A1C3: th_pool_release (pool.c:142)\n"
        "==48213==    by 0x4E5B0F8: th_request_cleanup (request.c:311)\n"
        "==48213==    by 0x10A4D2: worker (loadgen.c:58)\n"
        "==48213==    by 0x4E9DAC2: start_thread (pthread_create.c:442)\n"
        "==48213==    by 0x4F2EA03: clone (clone.S:100)\n"
        "==48213==  Address 0x5a3c0e8 is 24 bytes inside a block of size 96 free'd\n"
        "==48213==    at 0x484B27F: free (vg_replace_malloc.c:872)\n"
        "==48213==    by 0x4E59F71: th_conn_close (conn.c:203)\n"
        "==48213==    by 0x4E5A0B4: th_pool_reap_idle (pool.c:117)\n"
        "==48213==    by 0x4E5A19E: th_pool_release (pool.c:139)\n"
        "==48213==    by 0x4E5B0F8: th_request_cleanup (request.c:311)\n"
        "==48213==  Block was alloc'd at\n"
        "==48213==    at 0x4848899: malloc (vg_replace_malloc.c:381)\n"
        "==48213==    by 0x4E59B02: th_conn_new (conn.c:61)\n"
        "==48213==    by 0x4E5A2E8: th_pool_acquire (pool.c:88)\n```",
        "No crash.",
        "- tinyhttp version: 1.2.0\n- OS: RHEL 9.2\n- TLS backend: OpenSSL 3.0.7\n- Compiler: gcc 11.3"),
    comments=[("mkowalczyk", 2.0, "Thanks. Are you sure no `th_client` is shared between threads (see #8)? A small reproducer would help a lot."),
              ("hvasquez", 9.0, "Pretty sure, each worker creates its own client. I'll try to cut down the load generator."),
              ("github-actions[bot]", 63.9, "This issue has been automatically closed because it has not had recent activity and is waiting for more information. Feel free to reopen it with the requested details.")])

add(n=22, kind="issue", user="b-lindqvist", created="2023-10-18T13:27:10Z",
    title="Support gzip / deflate Content-Encoding",
    labels=["enhancement"], state="open", state_reason=None,
    body=feature(
        "Servers send `Content-Encoding: gzip` when we ask for it, and we have to inflate bodies "
        "ourselves with zlib. Large JSON responses are 10x smaller compressed.",
        "`TH_OPT_ACCEPT_ENCODING` that sends `Accept-Encoding: gzip, deflate` and transparently "
        "inflates the body with zlib (optional dependency, `-DTH_WITH_ZLIB=ON`). Streaming callbacks "
        "should receive decoded data.",
        "Doing it in the application; works but every user reimplements it."),
    comments=[("mkowalczyk", 4.0, "Yes, behind a build option. zlib is everywhere. Happy to review a PR."),
              ("tomasz-dev", 40.0, "I started on this, the streaming part is the tricky bit with `th_body_cb`.")],
    reactions={"+1": 9, "heart": 1})

add(n=23, kind="pr", user="mkowalczyk", created="2023-11-05T09:00:41Z",
    title="Release 1.2.0",
    labels=[], state="closed", state_reason=None, closed=0.2, merged=True, draft=False,
    body="## 1.2.0\n\n### Fixed\n- chunked: accept chunk extensions (#14)\n"
         "- redirects: relative `Location` resolution and a 20 hop limit (#17)\n"
         "- python: timeouts were ignored (#19)\n\n### Changed\n- `th_request_perform()` returns `TH_EREDIRECT` on redirect loops",
    comments=[])

add(n=24, kind="issue", user="noor-a", created="2023-11-20T11:52:33Z",
    title="examples/post.c leaks the response on the error path",
    labels=["bug", "good first issue"], state="closed", state_reason="completed", closed=("by", 26),
    body="Running `valgrind --leak-check=full ./examples/post http://localhost:1/` (nothing listening):\n\n"
         "```\n==3310== 312 (96 direct, 216 indirect) bytes in 1 blocks are definitely lost in loss record 4 of 4\n"
         "==3310==    at 0x4848899: malloc (vg_replace_malloc.c:381)\n"
         "==3310==    by 0x48A20C1: th_response_new (response.c:40)\n"
         "==3310==    by 0x10929D: main (post.c:27)\n```\n\n"
         "The example returns early without calling `th_response_free()`. Minor, but people copy examples.",
    comments=[("jtanaka-dev", 1.0, "Good first issue for anyone who wants it.")])

add(n=25, kind="issue", user="gg-ramirez", created="2023-12-03T15:19:08Z",
    title="How to integrate with libuv / an event loop?",
    labels=["question"], state="open", state_reason=None,
    body="We use libuv for everything else in our daemon. `th_request_perform()` blocks. Is there a "
         "non-blocking mode where I can get the socket fd and drive the state machine myself "
         "(like curl's multi interface)?\n\nIf not, is running it on a worker thread with "
         "`uv_queue_work()` the recommended approach?",
    comments=[("mkowalczyk", 1.0, "Not today. `uv_queue_work()` is what I'd do. A non-blocking API is on the wish list for 2.0 together with HTTP/2 (#5)."),
              ("gg-ramirez", 2.0, "OK. Is the request object safe to create on the loop thread and perform on the worker?"),
              ("mkowalczyk", 2.5, "Yes, as long as only one thread touches it at a time."),
              ("amir-h", 60.0, "We'd need this too; a `th_request_step()` style API would be perfect."),
              ("gg-ramirez", 61.0, "Thanks, the worker-thread approach works fine for now.")])

add(n=26, kind="pr", user="noor-a", created="2023-12-11T08:24:50Z",
    title="examples: free the response on the error path in post.c",
    labels=["good first issue"], state="closed", state_reason=None, closed=0.9, merged=True, draft=False,
    body="Closes #24\n\nFirst contribution, hope it's OK! valgrind is clean now for `examples/post` "
         "against a closed port.",
    comments=[("jtanaka-dev", 0.8, "Welcome and thanks! :tada:")])

# ---------------------------------------------------------------- 2024 ----
add(n=27, kind="issue", user="b-lindqvist", created="2024-01-08T12:06:14Z",
    title="Support proxies via HTTP_PROXY / HTTPS_PROXY environment variables",
    labels=["enhancement"], state="open", state_reason=None,
    body=feature(
        "In CI and in most corporate networks, outbound traffic must go through a proxy. curl, "
        "wget, Python requests and Go all honour `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY`; "
        "tinyhttp ignores them, so our tool can't reach anything there.",
        "- `TH_OPT_PROXY` to set a proxy URL explicitly\n"
        "- by default read `http_proxy` / `https_proxy` / `no_proxy` (lower and upper case)\n"
        "- for https URLs, open a tunnel with `CONNECT host:443` and do TLS inside it\n"
        "- `Proxy-Authorization: Basic` from `http://user:pass@proxy:3128`",
        "Wrapping with `proxychains`, which is fragile."),
    comments=[("mkowalczyk", 2.0, "Yes, this is overdue. The CONNECT tunnel is the main work, `th_conn_open()` needs a step between TCP connect and TLS."),
              ("fpetrov", 20.0, "+1, blocking us from using tinyhttp at work."),
              ("tomasz-dev", 35.0, "Should `NO_PROXY` support CIDR ranges like Go does, or only domain suffixes like curl?"),
              ("mkowalczyk", 36.0, "Domain suffixes and exact IPs first, like curl. CIDR later if someone needs it."),
              ("devnull-sam", 120.0, "Any ETA? Happy to test a branch."),
              ("tomasz-dev", 273.5, "Opened a draft with CONNECT support, see the linked PR.")],
    reactions={"+1": 27, "heart": 2, "eyes": 3})

add(n=28, kind="issue", user="devnull-sam", created="2024-01-22T09:48:37Z",
    title="Cookie jar is not written back to disk on th_client_free",
    labels=["bug"], state="closed", state_reason="completed", closed=("by", 30),
    body=bug(
        "With `TH_OPT_COOKIE_JAR=\"cookies.txt\"`, cookies are loaded at start but new ones set by "
        "the server are never saved. `cookies.txt` is unchanged after the program exits.",
        "```c\nth_client *c = th_client_new();\nth_client_opt_set(c, TH_OPT_COOKIE_JAR, \"cookies.txt\");\n"
        "/* GET https://httpbin.org/cookies/set?session=abc */\nth_client_free(c);\n```\n"
        "`cookies.txt` is still empty.",
        "The jar is flushed when the client is freed (as the docs say).",
        "- tinyhttp version: 1.2.0\n- OS: Fedora 39\n- Compiler: gcc 13.2"),
    comments=[("jtanaka-dev", 0.6, "The flush is only done in `th_cookie_jar_free()`, which `th_client_free()` forgets to call. Easy fix.")])

add(n=29, kind="issue", user="ochen42", created="2024-02-06T17:55:29Z",
    title="CI: test_timeouts is flaky on macOS runners",
    labels=["build"], state="closed", state_reason="completed", closed=5.0,
    body="`tests/test_timeouts` fails about one run in ten on `macos-latest`:\n\n"
         "```\n[ RUN      ] timeout_connect_blackhole\n"
         "tests/test_timeouts.c:54: error: elapsed 3.412 s, expected < 3.000 s\n[  FAILED  ] timeout_connect_blackhole\n```\n\n"
         "The hosted macOS runners are slow; maybe allow more slack or measure with a monotonic clock "
         "only around `th_request_perform()`.",
    comments=[("mkowalczyk", 1.0, "Let's give it 50% slack on CI, the point of the test is that it doesn't hang."),
              ("ochen42", 4.9, "Done in a41f0c3 on main, 30 green runs in a row.")])

add(n=30, kind="pr", user="devnull-sam", created="2024-02-14T10:31:16Z",
    title="cookies: flush the jar in th_client_free",
    labels=["bug"], state="closed", state_reason=None, closed=1.3, merged=True, draft=False,
    body="Fixes #28.\n\n`th_client_free()` now calls `th_cookie_jar_save()` before releasing the jar; "
         "a failed save is ignored (nothing to report it to at that point) but logged with the "
         "debug callback.",
    comments=[("jtanaka-dev", 1.2, "Thanks!")])

add(n=31, kind="issue", user="cwright-iot", created="2024-03-01T08:40:03Z",
    title="TLS 1.3 session resumption is never used",
    labels=["performance", "tls"], state="open", state_reason=None,
    body="On our devices every request to the same host does a full TLS 1.3 handshake, which costs "
         "~180 ms on the Cortex-A7 with ECDHE. With `SSL_SESSION` caching it could be ~40 ms.\n\n"
         "As far as I can tell `th_tls_handshake()` never calls `SSL_set_session()` and the session "
         "tickets from the server are dropped (no `SSL_CTX_sess_set_new_cb`).\n\n"
         "Measured with `SSLKEYLOGFILE` + Wireshark: no `pre_shared_key` extension in the second ClientHello.",
    comments=[("mkowalczyk", 3.0, "Right, we never implemented it. It needs a per-client session cache keyed by host:port. This would sit nicely next to the TLS version options from #13."),
              ("cwright-iot", 4.0, "I can help test on ARM.")],
    reactions={"+1": 4})

add(n=32, kind="issue", user="cwright-iot", created="2024-03-18T06:14:45Z",
    title="SIGSEGV in libcrypto when talking to device that uses client certificate auth",
    labels=["bug"], state="open", state_reason=None,
    body=bug(
        "Our gateway crashes when it connects to some field devices. The devices use mutual TLS "
        "and a self-signed setup; a few of them (old firmware) apparently don't send a certificate "
        "in their ServerHello flight. Core dump:",
        "```\nCore was generated by `/usr/bin/gatewayd --config /etc/gatewayd.conf'.\n"
        "Program terminated with signal SIGSEGV, Segmentation fault.\n"
        "#0  0xb6d1a2c4 in X509_get_subject_name () from /usr/lib/libcrypto.so.3\n"
        "#1  0xb6f403b0 in th_tls_verify_chain (conn=0x1d0c8a8) at src/tls_openssl.c:211\n"
        "#2  0xb6f40b8c in th_tls_handshake (conn=0x1d0c8a8, host=0x1d0c010 \"192.168.10.41\") at src/tls_openssl.c:158\n"
        "#3  0xb6f3e6f0 in th_conn_open (req=0x1d0beb0) at src/conn.c:97\n"
        "#4  0xb6f3d1a8 in th_request_perform (req=0x1d0beb0) at src/request.c:244\n"
        "#5  0x0001f3e4 in poll_device (dev=0x1cfe2a0) at gateway/poll.c:188\n"
        "#6  0xb6e2a0c8 in start_thread () from /lib/libpthread.so.0\n```\n\n"
        "Only happens with these devices; normal servers work fine.",
        "No crash; an error we can log and retry.",
        "- tinyhttp version: 1.0.0 (meta-tinyhttp recipe in our Yocto kirkstone build)\n"
        "- Target: ARMv7 (i.MX6ULL)\n- TLS backend: OpenSSL 3.0.9\n- Compiler: arm-poky-linux-gnueabi-gcc 11.4",
        checklist=BUG_CHECKLIST_LAZY),
    comments=[("cwright-iot", 0.2, "Forgot to say: client certificate is set with `TH_OPT_TLS_CLIENT_CERT` / `TH_OPT_TLS_CLIENT_KEY`.")])

add(n=33, kind="issue", user="yuki-m", created="2024-04-02T19:02:58Z",
    title="README: example for th_request_perform uses the old signature",
    labels=["documentation", "good first issue"], state="closed", state_reason="completed", closed=("by", 35),
    body="The quick start in README.md does\n\n```c\nth_response *res = th_request_perform(req);\n```\n\n"
         "but since 1.2 it is `int th_request_perform(th_request *req, th_response **out)`. The example "
         "doesn't compile:\n\n```\nquickstart.c:12:23: error: too few arguments to function 'th_request_perform'\n```",
    comments=[])

add(n=34, kind="issue", user="noor-a", created="2024-04-15T07:37:21Z",
    title="Corporate proxy: requests time out, https_proxy is ignored",
    labels=["question"], state="open", state_reason=None,
    body=bug(
        "At work all outbound connections go through a Squid proxy. curl and pip work because they "
        "pick up `https_proxy`, but our tool built on tinyhttp tries to connect directly and times out.",
        "```\n$ export https_proxy=http://proxy.corp.example:3128\n$ curl -sI https://api.example.com/v1/health | head -1\n"
        "HTTP/1.1 200 OK\n$ ./healthcheck https://api.example.com/v1/health\n"
        "healthcheck: th_request_perform: connect to api.example.com:443: Connection timed out (TH_ETIMEDOUT)\n```",
        "Either tinyhttp honours `https_proxy` / `no_proxy` like curl, or there is an option to pass the proxy "
        "(with a CONNECT tunnel for HTTPS).",
        "- tinyhttp version: 1.3.0\n- OS: Ubuntu 24.04\n- Squid 5.7 requiring Basic auth for some sites",
        checklist=BUG_CHECKLIST_LAZY),
    comments=[("jtanaka-dev", 3.0, "There is no proxy support at the moment, sorry. Labelled as question for now."),
              ("noor-a", 3.5, "Is there a workaround short of patching `conn.c`?"),
              ("kvoss", 10.0, "`proxychains4 ./healthcheck ...` worked for me in the same situation."),
              ("noor-a", 11.0, "Thanks, that works as a stopgap.")],
    reactions={"+1": 5})

add(n=35, kind="pr", user="yuki-m", created="2024-04-22T14:45:10Z",
    title="docs: update README examples to the 1.2 API",
    labels=["documentation"], state="closed", state_reason=None, closed=0.8, merged=True, draft=False,
    body="Fixes #33.\n\nAll README snippets now compile (I added them to `tests/docs/` so CI builds them).\n\n"
         "This also adds one sentence about `th_response_body()` lifetime, which touches #18 but "
         "doesn't fully resolve it: the other getters still need documenting.",
    comments=[("mkowalczyk", 0.7, "Compiling the README snippets in CI is a great idea, thanks!")])

add(n=36, kind="issue", user="amir-h", created="2024-05-06T11:28:44Z",
    title="Brotli (br) Content-Encoding support",
    labels=["enhancement"], state="open", state_reason=None,
    body=feature(
        "Similar to #22 but for Brotli: many CDNs now prefer `Content-Encoding: br` for text, "
        "and it compresses JSON better than gzip.",
        "When built with libbrotlidec, advertise `br` in `Accept-Encoding` and decode it in the same "
        "place gzip would be decoded.",
        "None, we decode by hand for now."),
    comments=[("mkowalczyk", 5.0, "Sure, once the decoding pipeline from #22 exists, adding br is small.")])

add(n=37, kind="issue", user="fpetrov", created="2024-05-20T09:13:36Z",
    title="1.3.0 breaks ABI: th_response_header() signature changed without SONAME bump",
    labels=["bug", "build"], state="closed", state_reason="completed", closed=2.0,
    body=bug(
        "Binaries built against 1.2.0 crash after upgrading to 1.3.0 because "
        "`th_response_header()` gained a `size_t *len` parameter, but the SONAME is still "
        "`libtinyhttp.so.1`.",
        "```\n$ abidiff libtinyhttp.so.1.2.0 libtinyhttp.so.1.3.0\nFunctions changes summary: 0 Removed, 1 Changed, 2 Added functions\n"
        "1 function with some indirect sub-type change:\n  [C] 'function const char* th_response_header(const th_response*, const char*)' "
        "has some indirect sub-type changes:\n    parameter 3 of type 'size_t*' was added\n```",
        "Either keep the old symbol or bump the SONAME to `.so.2`.",
        "- Arch Linux, tinyhttp 1.3.0 from the AUR"),
    comments=[("mkowalczyk", 0.5, "You're right, my mistake. 1.3.1 restores the old function and adds `th_response_header_n()` instead."),
              ("mkowalczyk", 2.0, "1.3.1 is out.")])

add(n=38, kind="issue", user="kvoss", created="2024-06-03T16:59:02Z",
    title="Downloads from MinIO fail with \"malformed chunk size\"",
    labels=["bug"], state="open", state_reason=None,
    body=bug(
        "Fetching objects from our MinIO server with `th-get` stops right after the headers. "
        "Small objects work, big ones (streamed by MinIO) never do. AWS CLI downloads the same objects fine.",
        "```\n$ th-get -v https://minio.lab.local:9000/backups/db-2024-06-01.tar.zst -o db.tar.zst\n"
        "> GET /backups/db-2024-06-01.tar.zst HTTP/1.1\n> Host: minio.lab.local:9000\n"
        "< HTTP/1.1 200 OK\n< Server: MinIO\n< Transfer-Encoding: chunked\n< Content-Type: application/zstd\n"
        "th-get: th_request_perform: protocol error (TH_EPROTO): malformed chunk size\n```\n\n"
        "A packet capture shows the first chunk line is\n\n"
        "```\n10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\n```",
        "The object downloads.",
        "- tinyhttp version: 1.1.0 (Debian bookworm package `libtinyhttp1`)\n- MinIO RELEASE.2024-05-10\n- OS: Debian 12",
        checklist=BUG_CHECKLIST_LAZY),
    comments=[("pbalogun", 6.0, "Same here with a Ceph RGW endpoint.")],
    reactions={"+1": 2})

add(n=39, kind="issue", user="rustyfjord", created="2024-06-17T10:20:48Z",
    title="Add a Meson build",
    labels=["enhancement", "build", "wontfix"], state="closed", state_reason="not_planned", closed=1.5,
    body=feature(
        "Projects using Meson have to wrap our CMake build, and the wrap for tinyhttp in WrapDB is outdated.",
        "A `meson.build` next to `CMakeLists.txt`.",
        "Keep using the cmake module in Meson."),
    comments=[("mkowalczyk", 1.4, "I'd rather not maintain two build systems. The CMake package config works from Meson's `dependency('tinyhttp', method: 'cmake')`. Closing, sorry!")])

add(n=40, kind="issue", user="pbalogun", created="2024-07-01T13:05:17Z",
    title="ASan: heap-use-after-free in connection reuse after server-side idle timeout",
    labels=["bug"], state="open", state_reason=None,
    body="Running our stress test under AddressSanitizer against a server with a short idle "
         "timeout (Caddy, 2s) reports this within a minute:\n\n"
         "```\n==9911==ERROR: AddressSanitizer: heap-use-after-free on address 0x6060000012e8 at pc 0x7f3b2c1a41c3 bp 0x7f3b29ffe9d0 sp 0x7f3b29ffe9c8\n"
         "READ of size 8 at 0x6060000012e8 thread T3\n"
         "    #0 0x7f3b2c1a41c2 in th_pool_release src/pool.c:142\n"
         "    #1 0x7f3b2c1a50f7 in th_request_cleanup src/request.c:311\n"
         "    #2 0x55d0c8e4a4d1 in fetch_one tests/stress.c:77\n"
         "    #3 0x7f3b2bea1ac2 in start_thread nptl/pthread_create.c:442\n\n"
         "0x6060000012e8 is located 24 bytes inside of 96-byte region [0x6060000012d0,0x606000001330)\n"
         "freed by thread T3 here:\n"
         "    #0 0x7f3b2c4b6537 in __interceptor_free ../../../../src/libsanitizer/asan/asan_malloc_linux.cpp:127\n"
         "    #1 0x7f3b2c1a3f70 in th_conn_close src/conn.c:203\n"
         "    #2 0x7f3b2c1a40b3 in th_pool_reap_idle src/pool.c:117\n"
         "    #3 0x7f3b2c1a419d in th_pool_release src/pool.c:139\n\n"
         "previously allocated by thread T3 here:\n"
         "    #0 0x7f3b2c4b6887 in __interceptor_malloc\n"
         "    #1 0x7f3b2c1a3b01 in th_conn_new src/conn.c:61\n"
         "    #2 0x7f3b2c1a42e7 in th_pool_acquire src/pool.c:88\n\n"
         "SUMMARY: AddressSanitizer: heap-use-after-free src/pool.c:142 in th_pool_release\n```\n\n"
         "My reading: `th_pool_release()` reaps idle connections first, and if the connection being "
         "released has itself just expired it gets closed by the reaper, then line 142 still writes "
         "its `last_used` field.\n\nVersion 1.3.1, Ubuntu 24.04, gcc 13.2 with `-fsanitize=address`.",
    comments=[("jtanaka-dev", 2.0, "Nice analysis, that looks right. The reaper should skip the connection being released. Do you want to send a fix?"),
              ("pbalogun", 3.0, "I'll try this weekend.")])

add(n=41, kind="pr", user="gg-ramirez", created="2024-07-15T08:51:39Z",
    title="tls: add TH_OPT_TLS_MIN_VERSION and TH_OPT_TLS_MAX_VERSION",
    labels=["enhancement", "tls"], state="open", state_reason=None, closed=None, merged=False, draft=False,
    body="Closes #13\n\n- new enum `th_tls_version` (`TH_TLS_1_0` ... `TH_TLS_1_3`)\n"
         "- OpenSSL: `SSL_CTX_set_min_proto_version()` / `SSL_CTX_set_max_proto_version()`\n"
         "- mbedTLS: `mbedtls_ssl_conf_min_tls_version()`\n- default unchanged (backend default)\n\n"
         "TODO: mbedTLS 2.x compatibility (`mbedtls_ssl_conf_min_version`).",
    comments=[("mkowalczyk", 5.0, "Thanks! One request: reject max < min with `TH_EINVAL` at option time, not at handshake time."),
              ("gg-ramirez", 9.0, "Done.")])

add(n=42, kind="issue", user="b-lindqvist", created="2024-07-29T21:34:26Z",
    title="Static linking with musl?",
    labels=["question", "build"], state="closed", state_reason="completed", closed=3.0,
    body="Has anyone built a fully static `th-get` with musl and mbedTLS? I get it to link, but DNS "
         "resolution fails at runtime in a `scratch` container:\n\n"
         "```\nth-get: resolve example.com: Name or service not known\n```",
    comments=[("ochen42", 0.5, "That's the container, not tinyhttp: `scratch` has no `/etc/resolv.conf` or `/etc/hosts`. Mount them or use a distroless base."),
              ("b-lindqvist", 2.9, "Of course. Works now, thanks!")])

add(n=43, kind="issue", user="yuki-m", created="2024-08-12T05:46:11Z",
    title="IDN hostnames: 例え.テスト and emoji domains fail with TH_EURL",
    labels=["enhancement", "http-parsing"], state="open", state_reason=None,
    body="Internationalized domain names are rejected by `th_url_parse()` before any DNS lookup. "
         "Browsers and curl (with libidn2) convert them to punycode (IDNA 2008 / UTS #46) first. 🌏\n\n"
         "| URL | curl 8.5 | tinyhttp 1.3.1 |\n"
         "|-----|----------|----------------|\n"
         "| `https://例え.テスト/パス` | ✅ `xn--r8jz45g.xn--zckzah` | ❌ `TH_EURL` |\n"
         "| `https://bücher.example/` | ✅ `xn--bcher-kva.example` | ❌ `TH_EURL` |\n"
         "| `https://🍕.ws/` | ✅ (UTS #46 transitional) | ❌ `TH_EURL` |\n"
         "| `https://ΑΒΓ.gr/` | ✅ lower-cased to `αβγ.gr` | ❌ `TH_EURL` |\n"
         "| `http://[::1]:8080/` | ✅ | ✅ |\n\n"
         "Proposed plan:\n\n"
         "- [x] collect test vectors (table above + the Unicode IdnaTestV2.txt file)\n"
         "- [ ] optional libidn2 dependency (`-DTH_WITH_IDN=ON`)\n"
         "- [ ] convert the host in `th_url_parse()`, keep the Unicode form for display\n"
         "- [ ] percent-encode non-ASCII path bytes (`/パス` → `/%E3%83%91%E3%82%B9`)\n"
         "- [ ] document that `Host:` always carries the A-label\n\n"
         "Edge cases worth a test: the full-width dot `．` (U+FF0E) and the ideographic full stop `。` "
         "(U+3002) are label separators too, zero-width joiners (U+200D) must be rejected, and "
         "`ß` maps differently in IDNA 2003 vs 2008 (`faß.de`).\n\nありがとう!",
    comments=[("mkowalczyk", 1.0, "Great write-up 🙏 libidn2 as an optional dependency is fine with me."),
              ("tomasz-dev", 3.0, "For Windows we could use `IdnToAscii()` from `normaliz.lib` instead of libidn2.")],
    reactions={"+1": 7, "heart": 5, "hooray": 2})

add(n=44, kind="pr", user="dependabot[bot]", created="2024-08-26T04:00:19Z",
    title="ci: bump actions/checkout from 3 to 4",
    labels=["dependencies"], state="closed", state_reason=None, closed=2.3, merged=True, draft=False,
    body="Bumps [actions/checkout](https://github.com/actions/checkout) from 3 to 4.\n\n"
         "<details>\n<summary>Release notes</summary>\n\n"
         "<p><em>Sourced from <a href=\"https://github.com/actions/checkout/releases\">actions/checkout's releases</a>.</em></p>\n"
         "<blockquote>\n<h2>v4.0.0</h2>\n<ul>\n<li>Update default runtime to node20</li>\n</ul>\n</blockquote>\n</details>\n\n"
         "Dependabot will resolve any conflicts with this PR as long as you don't alter it yourself.",
    comments=[])

add(n=45, kind="issue", user="amir-h", created="2024-09-09T15:12:57Z",
    title="Segfault when calling th_client_free twice",
    labels=["bug"], state="closed", state_reason="not_planned", closed=0.6,
    body="Our shutdown code can call `th_client_free()` twice for the same client and it crashes:\n\n"
         "```\n#0  0x00007ffff7a9e4b8 in th_cookie_jar_save (jar=0x4141414141414141) at src/cookies.c:233\n"
         "#1  0x00007ffff7a9c2f1 in th_client_free (c=0x55555559b2a0) at src/client.c:118\n"
         "#2  0x0000555555556a3c in app_shutdown () at app.c:402\n```\n\n"
         "Could `th_client_free()` be made idempotent?",
    comments=[("mkowalczyk", 0.5, "Freeing the same pointer twice is undefined behaviour for any `*_free()`, there's no way for us to detect it reliably. Set your pointer to NULL after freeing (`th_client_free(NULL)` is a no-op). Closing as not planned.")])

add(n=46, kind="issue", user="hvasquez", created="2024-09-23T09:39:40Z",
    title="Make the redirect limit configurable (TH_OPT_MAX_REDIRECTS)",
    labels=["enhancement"], state="open", state_reason=None,
    body=feature(
        "Since the fix for #15 the client stops after 20 redirects, but that's hard-coded. For our "
        "crawler we want 5, and for one legacy SSO flow we need more than 20 (don't ask).",
        "`th_opt_set(req, TH_OPT_MAX_REDIRECTS, 5)`; 0 disables following, -1 means the default.",
        "Following redirects manually in the application."),
    comments=[])

add(n=47, kind="pr", user="tomasz-dev", created="2024-10-07T18:27:33Z",
    title="WIP: HTTP CONNECT proxy support",
    labels=["enhancement"], state="open", state_reason=None, closed=None, merged=False, draft=True,
    body="Refs #27\n\nFirst step towards proxy support:\n\n- [x] `TH_OPT_PROXY` (`http://[user:pass@]host:port`)\n"
         "- [x] `CONNECT` tunnel for https targets, TLS inside the tunnel\n- [x] `Proxy-Authorization: Basic`\n"
         "- [ ] read `http_proxy` / `https_proxy` / `no_proxy` from the environment\n- [ ] tests with a tiny proxy in `tests/proxy/`\n\n"
         "Not ready for review yet.",
    comments=[("b-lindqvist", 2.0, "Thank you for picking this up! I'll test it against our Squid.")])

add(n=48, kind="issue", user="devnull-sam", created="2024-10-21T12:03:08Z",
    title="th_url_parse accepts spaces in the host",
    labels=["bug", "http-parsing"], state="open", state_reason=None,
    body="`th_url_parse(\"http://exa mple.com/\", &u)` returns `TH_OK` with host `\"exa mple.com\"`, and "
         "the request then goes out with `Host: exa mple.com`. It should fail with `TH_EURL`.\n\n"
         "Found while fuzzing with the libFuzzer harness in `fuzz/url_fuzzer.c`; other control characters "
         "(`\\t`, `\\x7f`) are accepted too.",
    comments=[("jtanaka-dev", 1.0, "Yes, host validation is too lax. Good find.")])

add(n=49, kind="issue", user="rustyfjord", created="2024-11-04T10:44:52Z",
    title="Python: publish aarch64 wheels on PyPI",
    labels=["enhancement", "python", "build"], state="closed", state_reason="completed", closed=("by", 50),
    body="`pip install tinyhttp` on a Raspberry Pi 5 or Graviton builds from source and needs OpenSSL "
         "headers. Could the release workflow build `manylinux_2_28_aarch64` and `musllinux` wheels?",
    comments=[("jtanaka-dev", 2.0, "cibuildwheel can do it with QEMU. I'll look at it.")],
    reactions={"+1": 3})

add(n=50, kind="pr", user="jtanaka-dev", created="2024-11-18T16:16:25Z",
    title="python: build aarch64 and musllinux wheels with cibuildwheel",
    labels=["python", "build"], state="closed", state_reason=None, closed=1.0, merged=True, draft=False,
    body="Fixes #49\n\nUses `docker/setup-qemu-action` + cibuildwheel 2.21. The aarch64 build takes ~14 min, "
         "so it only runs on tags.",
    comments=[])

add(n=51, kind="pr", user="mkowalczyk", created="2024-12-02T09:00:07Z",
    title="Release 1.4.0",
    labels=[], state="closed", state_reason=None, closed=0.1, merged=True, draft=False,
    body="## 1.4.0\n\n### Added\n- aarch64 and musllinux wheels (#50)\n- README snippets are compiled in CI (#35)\n\n"
         "### Fixed\n- cookie jar flushed on `th_client_free()` (#30)\n- `th_response_header()` ABI restored (1.3.1)",
    comments=[])

add(n=52, kind="issue", user="lena-w", created="2024-12-16T14:38:49Z",
    title="Body truncated for Connection: close responses without Content-Length",
    labels=["bug", "http-parsing"], state="open", state_reason=None,
    body=bug(
        "An HTTP/1.0-style response with neither `Content-Length` nor `Transfer-Encoding` (body "
        "delimited by the server closing the connection) comes back truncated to the first read, "
        "usually 16384 bytes.",
        "```\n$ python3 -c 'import http.server as h; h.HTTPServer((\"\", 8000), h.SimpleHTTPRequestHandler).serve_forever()' &\n"
        "$ th-get http://127.0.0.1:8000/big.bin | wc -c\n16384\n$ curl -s http://127.0.0.1:8000/big.bin | wc -c\n1048576\n```\n\n"
        "(SimpleHTTPRequestHandler does send Content-Length for files, but my CGI script doesn't; same result.)",
        "Read until EOF when the body length is not otherwise known (RFC 9112 section 6.3, rule 8).",
        "- tinyhttp version: 1.4.0\n- OS: Debian 12"),
    comments=[])

add(n=53, kind="issue", user="fpetrov", created="2025-01-06T11:07:30Z",
    title="Windows: th-get -o fails for output paths with non-ASCII characters",
    labels=["bug", "windows"], state="open", state_reason=None,
    body=bug(
        "Saving to a path with Cyrillic characters fails:",
        "```\nPS C:\\Users\\fedor> th-get https://example.com/ -o \"C:\\Users\\fedor\\Загрузки\\page.html\"\n"
        "th-get: cannot open C:\\Users\\fedor\\???????\\page.html: No such file or directory\n```",
        "The file is written. `th-get` should use `_wfopen()` with the UTF-16 path from `GetCommandLineW()`.",
        "- tinyhttp version: 1.4.0 (release zip)\n- Windows 11 23H2, console code page 866"),
    comments=[("tomasz-dev", 4.0, "Or add a UTF-8 manifest (`activeCodePage`) to th-get.exe, that makes `fopen()` take UTF-8 on Windows 10 1903+.")])

add(n=54, kind="issue", user="kvoss", created="2025-01-20T08:25:14Z",
    title="Streaming uploads from a file (th_request_set_body_file)",
    labels=["enhancement"], state="open", state_reason=None,
    body=feature(
        "Uploading a 4 GB backup with `th_request_set_body()` needs the whole file in memory.",
        "`th_request_set_body_file(req, FILE *f, int64_t len)` or a read callback, sent with "
        "`Content-Length` when known and chunked otherwise.",
        "mmap() the file, which doesn't work for pipes."),
    comments=[])

add(n=55, kind="issue", user="hvasquez", created="2025-02-03T19:51:42Z",
    title="TH_OPT_TIMEOUT_MS is not honoured during DNS resolution",
    labels=["bug"], state="open", state_reason=None,
    body=bug(
        "With `TH_OPT_TIMEOUT_MS = 2000`, a request to a host whose DNS server doesn't answer takes "
        "about 40 s to fail, because `getaddrinfo()` in `th_conn_resolve()` blocks and the timeout "
        "only starts counting at `connect()`.",
        "```c\nth_opt_set(req, TH_OPT_TIMEOUT_MS, 2000L);\n/* resolv.conf points at 10.9.9.9, which drops packets */\n"
        "rc = th_request_perform(req, &res);   /* returns TH_ERESOLVE after ~40 s */\n```",
        "The whole request, including resolution, finishes within the timeout.",
        "- tinyhttp version: 1.4.0\n- OS: Ubuntu 22.04 (glibc 2.35)",
        extra="glibc has `getaddrinfo_a()`; c-ares would be the portable option."),
    comments=[])

add(n=56, kind="issue", user="gg-ramirez", created="2025-02-17T10:33:06Z",
    title="mbedTLS backend: th_tls_handshake crashes when SNI hostname is longer than 255 bytes",
    labels=["bug", "tls"], state="open", state_reason=None,
    body=bug(
        "With the mbedTLS backend, a URL whose host name is longer than 255 bytes overflows a stack "
        "buffer in the handshake (found with the URL fuzzer):",
        "```\n==2291==ERROR: AddressSanitizer: stack-buffer-overflow on address 0x7ffd9a3c1f20\n"
        "WRITE of size 301 at 0x7ffd9a3c1f20 thread T0\n"
        "    #0 0x4a41b3 in __asan_memcpy\n"
        "    #1 0x55e1c0a2d6c8 in th_tls_set_sni src/tls_mbedtls.c:97\n"
        "    #2 0x55e1c0a2dd40 in th_tls_handshake src/tls_mbedtls.c:141\n"
        "    #3 0x55e1c0a2a6f1 in th_conn_open src/conn.c:97\n"
        "Address 0x7ffd9a3c1f20 is located in stack of thread T0 at offset 288 in frame\n"
        "    #0 0x55e1c0a2d5f0 in th_tls_set_sni src/tls_mbedtls.c:84\n"
        "  This frame has 1 object(s):\n    [32, 288) 'name' (line 86)\n```",
        "A `TH_EURL` error: DNS names can't be longer than 253 bytes anyway.",
        "- tinyhttp version: main (2025-02-15)\n- TLS backend: mbedTLS 3.6.2\n- clang 18 with `-fsanitize=address,fuzzer`"),
    comments=[])


# ---------------------------------------------------------------- output --
def ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def iso(d):
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(prefix, n):
    """A stable, GitHub-looking global node id."""
    raw = f"tinyhttp-demo:{prefix}:{n}".encode()
    return prefix + "_kwDOJdemo" + base64.b64encode(raw).decode().rstrip("=")[-8:]


def user_obj(login):
    uid, kind, _ = USERS[login]
    return {
        "login": login, "id": uid,
        "node_id": base64.b64encode(f"04:User{uid}".encode()).decode(),
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "", "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}", "type": kind,
        "user_view_type": "public", "site_admin": False,
    }


def label_obj(name):
    color, desc, default = LABELS[name]
    lid = 5200000000 + sorted(LABELS).index(name) * 1117
    return {"id": lid, "node_id": node_id("LA", lid), "url": f"{API}/labels/{name.replace(' ', '%20')}",
            "name": name, "color": color, "default": default, "description": desc or None}


def reactions_obj(url, counts):
    kinds = ["+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes"]
    out = {"url": url + "/reactions", "total_count": sum(counts.values())}
    out.update({k: counts.get(k, 0) for k in kinds})
    return out


def crlf(text):
    """Web-submitted bodies carry CRLF line ends on GitHub; bots use LF."""
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def build():
    by_n = {it["n"]: it for it in ITEMS}
    assert sorted(by_n) == list(range(1, len(ITEMS) + 1)), "numbers must be 1..N"
    created = {n: ts(it["created"]) for n, it in by_n.items()}

    def closed_at(it):
        c = it.get("closed")
        if c is None:
            return None
        if isinstance(c, tuple):        # closed when the fixing PR merged
            return closed_at(by_n[c[1]])
        return created[it["n"]] + timedelta(days=c)

    issues, comments = [], []
    cid = 1501000000
    for n in sorted(by_n):
        it = by_n[n]
        is_pr = it["kind"] == "pr"
        path = "pull" if is_pr else "issues"
        api_url = f"{API}/issues/{n}"
        bot = USERS[it["user"]][1] == "Bot"
        cl = closed_at(it)
        last = created[n]
        for (login, days, text) in it["comments"]:
            at = created[n] + timedelta(days=days)
            cid += 7919
            comments.append({
                "url": f"{API}/issues/comments/{cid}",
                "html_url": f"{WEB}/{path}/{n}#issuecomment-{cid}",
                "issue_url": api_url, "id": cid, "node_id": node_id("IC", cid),
                "user": user_obj(login), "created_at": iso(at), "updated_at": iso(at),
                "author_association": USERS[login][2],
                "body": text if USERS[login][1] == "Bot" else crlf(text),
                "reactions": reactions_obj(f"{API}/issues/comments/{cid}", {}),
                "performed_via_github_app": None,
            })
            last = max(last, at)
        if cl:
            last = max(last, cl)
        updated = last + timedelta(minutes=3) if last != created[n] else last
        obj = {
            "url": api_url, "repository_url": API,
            "labels_url": api_url + "/labels{/name}", "comments_url": api_url + "/comments",
            "events_url": api_url + "/events", "html_url": f"{WEB}/{path}/{n}",
            "id": 1610000000 + n * 104729 + (n * n) % 9973,
            "node_id": node_id("PR" if is_pr else "I", n), "number": n, "title": it["title"],
            "user": user_obj(it["user"]), "labels": [label_obj(l) for l in it["labels"]],
            "state": it["state"], "locked": False, "assignee": None, "assignees": [],
            "milestone": None, "comments": len(it["comments"]),
            "created_at": iso(created[n]), "updated_at": iso(updated),
            "closed_at": iso(cl) if cl else None,
            "author_association": USERS[it["user"]][2],
            "active_lock_reason": None,
        }
        if is_pr:
            obj["draft"] = it["draft"]
            obj["pull_request"] = {
                "url": f"{API}/pulls/{n}", "html_url": f"{WEB}/pull/{n}",
                "diff_url": f"{WEB}/pull/{n}.diff", "patch_url": f"{WEB}/pull/{n}.patch",
                "merged_at": iso(cl) if it["merged"] else None,
            }
        obj["body"] = it["body"] if bot else crlf(it["body"])
        obj["closed_by"] = None
        obj["reactions"] = reactions_obj(api_url, it.get("reactions", {}))
        obj["timeline_url"] = api_url + "/timeline"
        obj["performed_via_github_app"] = None
        obj["state_reason"] = it["state_reason"]
        assert (it["state"] == "closed") == (cl is not None), f"#{n}: state vs closed_at"
        issues.append(obj)
    # The API lists newest first (sort=created, direction=desc by default).
    issues.sort(key=lambda o: o["number"], reverse=True)
    return issues, comments


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    issues, comments = build()
    for name, data in (("issues.json", issues), ("comments.json", comments)):
        with open(os.path.join(here, name), "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
    nprs = sum(1 for o in issues if "pull_request" in o)
    print(f"wrote {len(issues)} items ({len(issues) - nprs} issues, {nprs} pull requests), "
          f"{len(comments)} comments")


if __name__ == "__main__":
    main()
