# ficx setup: federated identity credential, with Terraform (hashicorp/azuread)
# App registration in tenant A: client id c0c0c0c0-0000-4000-8000-00000000c0c0, object id 0b0b0b0b-0000-4000-8000-00000000000b
# Apply it signed in to tenant A as a principal allowed to change the app
# (Application.ReadWrite.All, or an owner of the app).
#
# WARNING [fic-limit] an app holds at most 20 federated credentials and issuer + subject must be unique on it; list the existing ones with: az ad app federated-credential list --id 0b0b0b0b-0000-4000-8000-00000000000b

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
  tenant_id   = "aaaaaaaa-0000-4000-8000-00000000000a"
  environment = "china"
}

resource "azuread_application_federated_identity_credential" "ficx" {
  application_id = "/applications/0b0b0b0b-0000-4000-8000-00000000000b"
  display_name   = "ficx-5f5f5f5f"
  description    = "Trust 5f5f5f5f-0000-4000-8000-000000000005 as a credential of c0c0c0c0-0000-4000-8000-00000000c0c0"
  audiences      = ["api://AzureADTokenExchangeChina"]
  issuer         = "https://login.partner.microsoftonline.cn/aaaaaaaa-0000-4000-8000-00000000000a/v2.0"
  subject        = "5f5f5f5f-0000-4000-8000-000000000005"
}

# Then provision the app in each customer tenant (admin consent creates its
# service principal there):
#   contoso.onmicrosoft.com: https://login.partner.microsoftonline.cn/contoso.onmicrosoft.com/adminconsent?client_id=c0c0c0c0-0000-4000-8000-00000000c0c0
