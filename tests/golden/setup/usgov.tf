# ficx setup: federated identity credential, with Terraform (hashicorp/azuread)
# App registration in tenant A: object id 0b0b0b0b-0000-4000-8000-00000000000b
# Apply it signed in to tenant A as a principal allowed to change the app
# (Application.ReadWrite.All, or an owner of the app).
#
# WARNING [consent-needs-client-id] consent in the customer tenants needs the app's client id (appId), and only its object id is known; find it with: az ad app show --id 0b0b0b0b-0000-4000-8000-00000000000b --query appId -o tsv
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
  environment = "usgovernment"
}

resource "azuread_application_federated_identity_credential" "ficx" {
  application_id = "/applications/0b0b0b0b-0000-4000-8000-00000000000b"
  display_name   = "ficx-gov-worker"
  description    = "Trust gov-worker as a credential of 0b0b0b0b-0000-4000-8000-00000000000b"
  audiences      = ["api://AzureADTokenExchangeUSGov"]
  issuer         = "https://login.microsoftonline.us/aaaaaaaa-0000-4000-8000-00000000000a/v2.0"
  subject        = "5f5f5f5f-0000-4000-8000-000000000005"
}

# Then provision the app in each customer tenant (admin consent creates its
# service principal there):
#   bbbbbbbb-0000-4000-8000-00000000000b: needs the app's client id (appId)
