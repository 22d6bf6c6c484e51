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
FICX_UAMI_CLIENT_ID, FICX_SCOPE. Imports are inside the functions so `fresh` pays them as a
user's process does.
"""

import json
import os
import sys
import threading
import time
import urllib.request

EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


def azure_identity_getter(authority, tenant, app, uami, scope):
    from azure.identity import ClientAssertionCredential, ManagedIdentityCredential

    mi = ManagedIdentityCredential(client_id=uami)
    cred = ClientAssertionCredential(
        tenant_id=tenant,
        client_id=app,
        func=lambda: mi.get_token(EXCHANGE_AUDIENCE + "/.default").token,
        authority=authority,
    )
    return lambda: cred.get_token(scope).token


def msal_getter(authority, tenant, app, uami, scope):
    import msal
    import requests

    mi = msal.ManagedIdentityClient(
        msal.UserAssignedManagedIdentity(client_id=uami), http_client=requests.Session()
    )

    def assertion():
        r = mi.acquire_token_for_client(resource=EXCHANGE_AUDIENCE)
        if "access_token" not in r:
            raise RuntimeError("MI leg failed: %s" % r.get("error"))
        return r["access_token"]

    cca = msal.ConfidentialClientApplication(
        app,
        client_credential={"client_assertion": assertion},
        authority="%s/%s" % (authority, tenant),
        instance_discovery="%s/common/discovery/instance" % authority,
    )

    def get():
        r = cca.acquire_token_for_client(scopes=[scope])
        if "access_token" not in r:
            raise RuntimeError("exchange failed: %s %s" % (r.get("error"), r.get("error_codes")))
        return r["access_token"]

    return get


def getter(sdk):
    args = (
        os.environ["FICX_AUTHORITY"],
        os.environ["FICX_TENANT"],
        os.environ["FICX_APP_CLIENT_ID"],
        os.environ["FICX_UAMI_CLIENT_ID"],
        os.environ.get("FICX_SCOPE", "https://graph.microsoft.com/.default"),
    )
    return {"azure-identity": azure_identity_getter, "msal": msal_getter}[sdk](*args)


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
