# ficx setup: federated identity credential, with the Microsoft Graph PowerShell SDK
# App registration in tenant A: client id c0c0c0c0-0000-4000-8000-00000000c0c0
# Needs the module: Install-Module Microsoft.Graph.Applications
#
# WARNING [system-assigned] the managed identity is system-assigned; Microsoft documents managed identities as FIC credentials for user-assigned identities only: use a user-assigned one
# WARNING [name-invalid] the name "my fic!" contains characters that are not URL-safe (' ', '!'); Entra takes 3-120 letters, digits, '-' or '_', starting with a letter or digit; try my-fic
# WARNING [issuer-trailing-slash] the issuer "https://login.microsoftonline.us/aaaaaaaa-0000-4000-8000-00000000000a/v2.0/" ends with '/'; the MI token's iss has no trailing slash, so the exchange fails with AADSTS700211
# WARNING [issuer-cloud-mismatch] the issuer's host https://login.microsoftonline.us is not the public cloud's authority host https://login.microsoftonline.com; the MI, the app and the customer tenants must be in one cloud (cross-cloud exchanges do not work)
# WARNING [audience-cloud-mismatch] the audience "api://AzureADTokenExchangeUSGov" is not the public cloud's exchange audience api://AzureADTokenExchange; the MI token must be requested for the FIC's audience, and cross-cloud exchanges do not work
# WARNING [fic-limit] an app holds at most 20 federated credentials and issuer + subject must be unique on it; list the existing ones with: az ad app federated-credential list --id c0c0c0c0-0000-4000-8000-00000000c0c0

Connect-MgGraph -TenantId 'aaaaaaaa-0000-4000-8000-00000000000a' -Scopes 'Application.ReadWrite.All'

# Only the app's client id is known: look up its object id.
$app = Get-MgApplication -Filter "appId eq 'c0c0c0c0-0000-4000-8000-00000000c0c0'"
New-MgApplicationFederatedIdentityCredential -ApplicationId $app.Id -BodyParameter @{
    name        = 'my fic!'
    issuer      = 'https://login.microsoftonline.us/aaaaaaaa-0000-4000-8000-00000000000a/v2.0/'
    subject     = '5f5f5f5f-0000-4000-8000-000000000005'
    audiences   = @('api://AzureADTokenExchangeUSGov')
    description = 'Ops'' "prod" key: $HOME ${x} %{ if } `whoami` $(id) \ C:\path
line 2	tab ‘‘smart’’ é'
}

# Provision the app in each customer tenant: admin consent (or New-MgServicePrincipal)
# creates its service principal there. Then grant that service principal the app
# roles or Azure roles the target resource needs.

# tenant contoso.onmicrosoft.com; or have an admin of it open: https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=c0c0c0c0-0000-4000-8000-00000000c0c0
Connect-MgGraph -TenantId 'contoso.onmicrosoft.com' -Scopes 'Application.ReadWrite.All'
New-MgServicePrincipal -AppId 'c0c0c0c0-0000-4000-8000-00000000c0c0'
