# ficx setup: federated identity credential, with the Microsoft Graph PowerShell SDK
# App registration in tenant A: object id 0b0b0b0b-0000-4000-8000-00000000000b
# Needs the module: Install-Module Microsoft.Graph.Applications
#
# WARNING [consent-needs-client-id] consent in the customer tenants needs the app's client id (appId), and only its object id is known; find it with: az ad app show --id 0b0b0b0b-0000-4000-8000-00000000000b --query appId -o tsv
# WARNING [fic-limit] an app holds at most 20 federated credentials and issuer + subject must be unique on it; list the existing ones with: az ad app federated-credential list --id 0b0b0b0b-0000-4000-8000-00000000000b

Connect-MgGraph -TenantId 'aaaaaaaa-0000-4000-8000-00000000000a' -Scopes 'Application.ReadWrite.All' -Environment USGov

New-MgApplicationFederatedIdentityCredential -ApplicationId '0b0b0b0b-0000-4000-8000-00000000000b' -BodyParameter @{
    name        = 'ficx-gov-worker'
    issuer      = 'https://login.microsoftonline.us/aaaaaaaa-0000-4000-8000-00000000000a/v2.0'
    subject     = '5f5f5f5f-0000-4000-8000-000000000005'
    audiences   = @('api://AzureADTokenExchangeUSGov')
    description = 'Trust gov-worker as a credential of 0b0b0b0b-0000-4000-8000-00000000000b'
}

# Provision the app in each customer tenant: admin consent (or New-MgServicePrincipal)
# creates its service principal there. Then grant that service principal the app
# roles or Azure roles the target resource needs.

# tenant bbbbbbbb-0000-4000-8000-00000000000b: needs the app's client id (appId), which was not given
