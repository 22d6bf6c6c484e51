"""The MI -> FIC -> foreign-tenant token flow with Microsoft's Python SDKs, against the emulator
(or any endpoints) that the environment names. Shared by tests/sdk_compat.rs (run as a script)
and scripts/bench_python.py (imported), so the test and the benchmark run the same pipeline.

Usage: python_sdk_flow.py azure-identity|msal. Reads FICX_AUTHORITY, FICX_TENANT,
FICX_APP_CLIENT_ID, FICX_UAMI_CLIENT_ID and FICX_SCOPE; the MI endpoint comes from
AZURE_POD_IDENTITY_AUTHORITY_HOST and the emulator CA from REQUESTS_CA_BUNDLE / SSL_CERT_FILE.
Prints one line `TOKEN=<jwt>` on success (for the Rust test to decode), or the SDK's error on
stderr and exits 1. The SDK imports are inside the functions, so a fresh process pays them as a
user's process does.
"""

import os
import sys

EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
SDKS = ("azure-identity", "msal")


def azure_identity_getter(authority, tenant, app, uami, scope):
    """ManagedIdentityCredential inside a ClientAssertionCredential; returns a token getter."""
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
    """ManagedIdentityClient feeding a ConfidentialClientApplication; returns a token getter."""
    import msal
    import requests

    mi = msal.ManagedIdentityClient(
        msal.UserAssignedManagedIdentity(client_id=uami), http_client=requests.Session()
    )

    def assertion():
        # MSAL's MI client caches; a callable lets MSAL re-read it when the JWT ages.
        r = mi.acquire_token_for_client(resource=EXCHANGE_AUDIENCE)
        if "access_token" not in r:
            raise RuntimeError("MI leg failed: %s" % r.get("error"))
        return r["access_token"]

    cca = msal.ConfidentialClientApplication(
        app,
        client_credential={"client_assertion": assertion},
        authority="%s/%s" % (authority, tenant),
        # MSAL sends instance discovery for unknown hosts to login.microsoftonline.com; its
        # documented string form points it at the emulator, which answers like Entra does.
        instance_discovery="%s/common/discovery/instance" % authority,
    )

    def get():
        r = cca.acquire_token_for_client(scopes=[scope])
        if "access_token" not in r:
            raise RuntimeError("exchange failed: %s %s" % (r.get("error"), r.get("error_codes")))
        return r["access_token"]

    return get


def getter(sdk):
    """A callable returning a foreign-tenant token through `sdk`, configured from FICX_* vars."""
    args = (
        os.environ["FICX_AUTHORITY"],
        os.environ["FICX_TENANT"],
        os.environ["FICX_APP_CLIENT_ID"],
        os.environ["FICX_UAMI_CLIENT_ID"],
        os.environ.get("FICX_SCOPE", "https://graph.microsoft.com/.default"),
    )
    return {"azure-identity": azure_identity_getter, "msal": msal_getter}[sdk](*args)


def main():
    sdk = sys.argv[1] if len(sys.argv) > 1 else ""
    if sdk not in SDKS:
        print("usage: python_sdk_flow.py %s" % "|".join(SDKS), file=sys.stderr)
        return 2
    try:
        token = getter(sdk)()
    except Exception as e:  # report the SDK's own error text
        print("%s flow failed: %s: %s" % (sdk, type(e).__name__, e), file=sys.stderr)
        return 1
    print("TOKEN=" + token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
