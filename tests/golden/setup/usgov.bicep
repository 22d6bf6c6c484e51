// ficx setup: federated identity credential, with Bicep and the Microsoft Graph extension
// App registration in tenant A (aaaaaaaa-0000-4000-8000-00000000000a): object id 0b0b0b0b-0000-4000-8000-00000000000b
// Deploy it signed in to tenant A, as a principal allowed to change the app
// (Application.ReadWrite.All, or an owner of the app), e.g.
//   az deployment group create --resource-group <rg> --template-file fic.bicep \
//     --parameters appUniqueName=<unique name>
// Check that the Microsoft Graph Bicep extension is available in the usgov cloud.
//
// WARNING [consent-needs-client-id] consent in the customer tenants needs the app's client id (appId), and only its object id is known; find it with: az ad app show --id 0b0b0b0b-0000-4000-8000-00000000000b --query appId -o tsv
// WARNING [fic-limit] an app holds at most 20 federated credentials and issuer + subject must be unique on it; list the existing ones with: az ad app federated-credential list --id 0b0b0b0b-0000-4000-8000-00000000000b

// The extension alias comes from bicepconfig.json next to this file:
//   { "extensions": { "microsoftGraphV1": "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0" } }
// or replace the next line with the registry form:
//   extension 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0'
extension microsoftGraphV1

// The app registration's uniqueName (Bicep finds existing Graph resources by it).
// An app created outside Bicep has none until it is set once (it is immutable), e.g.
//   PATCH https://graph.microsoft.us/v1.0/applications/0b0b0b0b-0000-4000-8000-00000000000b
//   {"uniqueName": "<unique name>"}
param appUniqueName string

resource app 'Microsoft.Graph/applications@v1.0' existing = {
  uniqueName: appUniqueName
}

resource fic 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {
  name: '${app.uniqueName}/ficx-gov-worker'
  issuer: 'https://login.microsoftonline.us/aaaaaaaa-0000-4000-8000-00000000000a/v2.0'
  subject: '5f5f5f5f-0000-4000-8000-000000000005'
  audiences: [
    'api://AzureADTokenExchangeUSGov'
  ]
  description: 'Trust gov-worker as a credential of 0b0b0b0b-0000-4000-8000-00000000000b'
}

// Then provision the app in each customer tenant (admin consent creates its
// service principal there):
//   bbbbbbbb-0000-4000-8000-00000000000b: needs the app's client id (appId)
