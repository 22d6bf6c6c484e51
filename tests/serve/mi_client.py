"""An unmodified azure-identity client: ManagedIdentityCredential() with no arguments.

ficx serve is found only through IDENTITY_ENDPOINT and IDENTITY_HEADER in the environment, as on
App Service. Prints `TOKEN=<jwt>` and `EXPIRES_ON=<epoch>` on success.
"""

from azure.identity import ManagedIdentityCredential

token = ManagedIdentityCredential().get_token("https://graph.microsoft.com/.default")
print("TOKEN=" + token.token)
print("EXPIRES_ON=%d" % token.expires_on)
