# ficx setup: federated identity credential, with the Microsoft Graph PowerShell SDK
# App registration in tenant A: client id c0c0c0c0-0000-4000-8000-00000000c0c0
# Needs the module: Install-Module Microsoft.Graph.Applications
#
# WARNING [fic-limit] an app holds at most 20 federated credentials and issuer + subject must be unique on it; list the existing ones with: az ad app federated-credential list --id c0c0c0c0-0000-4000-8000-00000000c0c0

Connect-MgGraph -TenantId 'aaaaaaaa-0000-4000-8000-00000000000a' -Scopes 'Application.ReadWrite.All'

# Only the app's client id is known: look up its object id.
$app = Get-MgApplication -Filter "appId eq 'c0c0c0c0-0000-4000-8000-00000000c0c0'"
New-MgApplicationFederatedIdentityCredential -ApplicationId $app.Id -BodyParameter @{
    name        = 'ficx-5f5f5f5f'
    issuer      = 'https://login.microsoftonline.com/aaaaaaaa-0000-4000-8000-00000000000a/v2.0'
    subject     = '5f5f5f5f-0000-4000-8000-000000000005'
    audiences   = @('api://AzureADTokenExchange')
    description = 'Trust 5f5f5f5f-0000-4000-8000-000000000005 as a credential of c0c0c0c0-0000-4000-8000-00000000c0c0'
}

# Provision the app in each customer tenant: admin consent (or New-MgServicePrincipal)
# creates its service principal there. Then grant that service principal the app
# roles or Azure roles the target resource needs.
# No customer tenant named.
