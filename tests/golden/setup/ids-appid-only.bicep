// ficx setup: federated identity credential, with Bicep and the Microsoft Graph extension
// App registration in tenant A (aaaaaaaa-0000-4000-8000-00000000000a): client id c0c0c0c0-0000-4000-8000-00000000c0c0
// Deploy it signed in to tenant A, as a principal allowed to change the app
// (Application.ReadWrite.All, or an owner of the app), e.g.
//   az deployment group create --resource-group <rg> --template-file fic.bicep \
//     --parameters appUniqueName=<unique name>
//
// WARNING [fic-limit] an app holds at most 20 federated credentials and issuer + subject must be unique on it; list the existing ones with: az ad app federated-credential list --id c0c0c0c0-0000-4000-8000-00000000c0c0

// The extension alias comes from bicepconfig.json next to this file:
//   { "extensions": { "microsoftGraphV1": "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0" } }
// or replace the next line with the registry form:
//   extension 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0'
extension microsoftGraphV1

// The app registration's uniqueName (Bicep finds existing Graph resources by it).
// An app created outside Bicep has none until it is set once (it is immutable), e.g.
//   PATCH https://graph.microsoft.com/v1.0/applications(appId='c0c0c0c0-0000-4000-8000-00000000c0c0')
//   {"uniqueName": "<unique name>"}
param appUniqueName string

resource app 'Microsoft.Graph/applications@v1.0' existing = {
  uniqueName: appUniqueName
}

resource fic 'Microsoft.Graph/applications/federatedIdentityCredentials@v1.0' = {
  name: '${app.uniqueName}/ficx-5f5f5f5f'
  issuer: 'https://login.microsoftonline.com/aaaaaaaa-0000-4000-8000-00000000000a/v2.0'
  subject: '5f5f5f5f-0000-4000-8000-000000000005'
  audiences: [
    'api://AzureADTokenExchange'
  ]
  description: 'Trust 5f5f5f5f-0000-4000-8000-000000000005 as a credential of c0c0c0c0-0000-4000-8000-00000000c0c0'
}
