# ficx setup: federated identity credential, with Terraform (hashicorp/azuread)
# App registration in tenant A: client id c0c0c0c0-0000-4000-8000-00000000c0c0
# Apply it signed in to tenant A as a principal allowed to change the app
# (Application.ReadWrite.All, or an owner of the app).
#
# WARNING [system-assigned] the managed identity is system-assigned; Microsoft documents managed identities as FIC credentials for user-assigned identities only: use a user-assigned one
# WARNING [name-invalid] the name "my fic!" contains characters that are not URL-safe (' ', '!'); Entra takes 3-120 letters, digits, '-' or '_', starting with a letter or digit; try my-fic
# WARNING [issuer-trailing-slash] the issuer "https://login.microsoftonline.us/aaaaaaaa-0000-4000-8000-00000000000a/v2.0/" ends with '/'; the MI token's iss has no trailing slash, so the exchange fails with AADSTS700211
# WARNING [issuer-cloud-mismatch] the issuer's host https://login.microsoftonline.us is not the public cloud's authority host https://login.microsoftonline.com; the MI, the app and the customer tenants must be in one cloud (cross-cloud exchanges do not work)
# WARNING [audience-cloud-mismatch] the audience "api://AzureADTokenExchangeUSGov" is not the public cloud's exchange audience api://AzureADTokenExchange; the MI token must be requested for the FIC's audience, and cross-cloud exchanges do not work
# WARNING [fic-limit] an app holds at most 20 federated credentials and issuer + subject must be unique on it; list the existing ones with: az ad app federated-credential list --id c0c0c0c0-0000-4000-8000-00000000c0c0

terraform {
  required_providers {
    azuread = {
      source  = "hashicorp/azuread"
      version = "~> 3.0"
    }
  }
}

# The app registration and the managed identity live in tenant A.
provider "azuread" {
  tenant_id = "aaaaaaaa-0000-4000-8000-00000000000a"
}

# Only the app's client id is known: look the application up by it.
data "azuread_application" "app" {
  client_id = "c0c0c0c0-0000-4000-8000-00000000c0c0"
}

resource "azuread_application_federated_identity_credential" "ficx" {
  application_id = data.azuread_application.app.id
  display_name   = "my fic!"
  description    = "Ops' \"prod\" key: $HOME $${x} %%{ if } `whoami` $(id) \\ C:\\path\nline 2\ttab ‘smart’ é"
  audiences      = ["api://AzureADTokenExchangeUSGov"]
  issuer         = "https://login.microsoftonline.us/aaaaaaaa-0000-4000-8000-00000000000a/v2.0/"
  subject        = "5f5f5f5f-0000-4000-8000-000000000005"
}

# Then provision the app in each customer tenant (admin consent creates its
# service principal there):
#   contoso.onmicrosoft.com: https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=c0c0c0c0-0000-4000-8000-00000000c0c0
