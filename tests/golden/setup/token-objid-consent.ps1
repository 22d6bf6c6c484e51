# ficx setup: federated identity credential, with the Microsoft Graph PowerShell SDK
# App registration in tenant A: client id c0c0c0c0-0000-4000-8000-00000000c0c0, object id 0b0b0b0b-0000-4000-8000-00000000000b
# Needs the module: Install-Module Microsoft.Graph.Applications
#
# WARNING [fic-limit] an app holds at most 20 federated credentials and issuer + subject must be unique on it; list the existing ones with: az ad app federated-credential list --id 0b0b0b0b-0000-4000-8000-00000000000b

Connect-MgGraph -TenantId 'aaaaaaaa-0000-4000-8000-00000000000a' -Scopes 'Application.ReadWrite.All'

New-MgApplicationFederatedIdentityCredential -ApplicationId '0b0b0b0b-0000-4000-8000-00000000000b' -BodyParameter @{
    name        = 'ficx-orders-api'
    issuer      = 'https://login.microsoftonline.com/aaaaaaaa-0000-4000-8000-00000000000a/v2.0'
    subject     = '5f5f5f5f-0000-4000-8000-000000000005'
    audiences   = @('api://AzureADTokenExchange')
    description = 'Trust orders-api as a credential of c0c0c0c0-0000-4000-8000-00000000c0c0'
}

# Provision the app in each customer tenant: admin consent (or New-MgServicePrincipal)
# creates its service principal there. Then grant that service principal the app
# roles or Azure roles the target resource needs.

# tenant bbbbbbbb-0000-4000-8000-00000000000b; or have an admin of it open: https://login.microsoftonline.com/bbbbbbbb-0000-4000-8000-00000000000b/adminconsent?client_id=c0c0c0c0-0000-4000-8000-00000000c0c0
Connect-MgGraph -TenantId 'bbbbbbbb-0000-4000-8000-00000000000b' -Scopes 'Application.ReadWrite.All'
New-MgServicePrincipal -AppId 'c0c0c0c0-0000-4000-8000-00000000c0c0'

# tenant contoso.onmicrosoft.com; or have an admin of it open: https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=c0c0c0c0-0000-4000-8000-00000000c0c0
Connect-MgGraph -TenantId 'contoso.onmicrosoft.com' -Scopes 'Application.ReadWrite.All'
New-MgServicePrincipal -AppId 'c0c0c0c0-0000-4000-8000-00000000c0c0'
