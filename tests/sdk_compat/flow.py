"""Run the MI -> FIC -> foreign-tenant token flow with a real Python SDK against the emulator.

Usage: flow.py azure-identity|msal. Reads FICX_AUTHORITY, FICX_TENANT, FICX_APP_CLIENT_ID,
FICX_UAMI_CLIENT_ID and FICX_SCOPE; the MI endpoint comes from AZURE_POD_IDENTITY_AUTHORITY_HOST
and the emulator CA from REQUESTS_CA_BUNDLE / SSL_CERT_FILE. Prints one line `TOKEN=<jwt>` on
success (for the Rust test to decode), or the SDK's error on stderr and exits 1.
"""

import os
import sys

EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


def with_azure_identity(authority, tenant, app, uami, scope):
    from azure.identity import ClientAssertionCredential, ManagedIdentityCredential

    mi = ManagedIdentityCredential(client_id=uami)
    cred = ClientAssertionCredential(
        tenant_id=tenant,
        client_id=app,
        func=lambda: mi.get_token(EXCHANGE_AUDIENCE + "/.default").token,
        authority=authority,
    )
    return cred.get_token(scope).token


def with_msal(authority, tenant, app, uami, scope):
    import msal
    import requests

    mi = msal.ManagedIdentityClient(
        msal.UserAssignedManagedIdentity(client_id=uami), http_client=requests.Session()
    )
    def assertion():
        # MSAL's MI client caches; a callable lets MSAL re-read it when the JWT ages.
        mi_result = mi.acquire_token_for_client(resource=EXCHANGE_AUDIENCE)
        if "access_token" not in mi_result:
            raise RuntimeError("MI leg failed: %s" % mi_result.get("error"))
        return mi_result["access_token"]

    cca = msal.ConfidentialClientApplication(
        app,
        client_credential={"client_assertion": assertion},
        authority="%s/%s" % (authority, tenant),
        # MSAL sends instance discovery for unknown hosts to login.microsoftonline.com; its
        # documented string form points it at the emulator, which answers like Entra does.
        instance_discovery="%s/common/discovery/instance" % authority,
    )
    result = cca.acquire_token_for_client(scopes=[scope])
    if "access_token" not in result:
        raise RuntimeError(
            "exchange failed: %s %s" % (result.get("error"), result.get("error_codes"))
        )
    return result["access_token"]


def main():
    mode = sys.argv[1]
    args = (
        os.environ["FICX_AUTHORITY"],
        os.environ["FICX_TENANT"],
        os.environ["FICX_APP_CLIENT_ID"],
        os.environ["FICX_UAMI_CLIENT_ID"],
        os.environ.get("FICX_SCOPE", "https://graph.microsoft.com/.default"),
    )
    flows = {"azure-identity": with_azure_identity, "msal": with_msal}
    try:
        token = flows[mode](*args)
    except Exception as e:  # report the SDK's own error text
        print("%s flow failed: %s: %s" % (mode, type(e).__name__, e), file=sys.stderr)
        return 1
    print("TOKEN=" + token)
    return 0


if __name__ == "__main__":
    sys.exit(main())
