"""The Python SDKs' side of scripts/bench.sh --compare-python: the same MI -> FIC -> foreign-tenant
pipeline as `ficx token`, with azure-identity (ManagedIdentityCredential + ClientAssertionCredential)
or MSAL Python (ManagedIdentityClient + ConfidentialClientApplication), against the emulator that
the environment names (loopback only).

Usage:
  bench_python.py fresh SDK           one full pipeline in this (fresh) process; prints TOKEN_LEN=n
  bench_python.py hits SDK N          one pipeline, then N cached get_token calls; prints HIT_US=x
  bench_python.py burst SDK THREADS   THREADS cold threads at once on one credential; prints
                                      BURST_MI=a BURST_TOKEN=b (from the emulator's request log)
SDK is azure-identity or msal. Environment: AZURE_POD_IDENTITY_AUTHORITY_HOST (the MI endpoint),
REQUESTS_CA_BUNDLE (the emulator CA), FICX_AUTHORITY, FICX_TENANT, FICX_APP_CLIENT_ID,
FICX_UAMI_CLIENT_ID, FICX_SCOPE. The pipeline itself is scripts/python_sdk_flow.py, whose SDK
imports are inside its functions so `fresh` pays them as a user's process does.
"""

import json
import os
import sys
import threading
import time
import urllib.request

from python_sdk_flow import getter  # the same pipeline tests/sdk_compat.rs runs


def counts():
    base = os.environ["AZURE_POD_IDENTITY_AUTHORITY_HOST"].rstrip("/")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(base + "/_ficx/log/counts", timeout=5) as r:
        c = json.load(r)
    return c.get("imds", 0), c.get("token", 0)


def main():
    mode, sdk = sys.argv[1], sys.argv[2]
    if mode == "fresh":
        print("TOKEN_LEN=%d" % len(getter(sdk)()))
    elif mode == "hits":
        n = int(sys.argv[3])
        get = getter(sdk)
        get()
        t0 = time.perf_counter()
        for _ in range(n):
            get()
        print("HIT_US=%.2f" % ((time.perf_counter() - t0) / n * 1e6))
    elif mode == "burst":
        threads = int(sys.argv[3])
        get = getter(sdk)
        mi0, tok0 = counts()
        start = threading.Barrier(threads)
        errors = []

        def call():
            start.wait()
            try:
                get()
            except Exception as e:  # noqa: BLE001 - counted and reported
                errors.append(e)

        ts = [threading.Thread(target=call) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        mi1, tok1 = counts()
        print("BURST_MI=%d BURST_TOKEN=%d BURST_ERRORS=%d" % (mi1 - mi0, tok1 - tok0, len(errors)))
    else:
        raise SystemExit("unknown mode %r" % mode)


if __name__ == "__main__":
    main()
