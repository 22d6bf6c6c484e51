#!/usr/bin/env bash
# ficx setup: federated identity credential, with the Azure CLI
# App registration in tenant A: client id c0c0c0c0-0000-4000-8000-00000000c0c0, object id 0b0b0b0b-0000-4000-8000-00000000000b
# Sign in to tenant A (the managed identity's and the app's tenant) first:
#   az login --tenant aaaaaaaa-0000-4000-8000-00000000000a
#
# WARNING [fic-limit] an app holds at most 20 federated credentials and issuer + subject must be unique on it; list the existing ones with: az ad app federated-credential list --id 0b0b0b0b-0000-4000-8000-00000000000b

az ad app federated-credential create \
  --id 0b0b0b0b-0000-4000-8000-00000000000b \
  --parameters '{"name":"ficx-orders-api","issuer":"https://login.microsoftonline.com/aaaaaaaa-0000-4000-8000-00000000000a/v2.0","subject":"5f5f5f5f-0000-4000-8000-000000000005","audiences":["api://AzureADTokenExchange"],"description":"Trust orders-api as a credential of c0c0c0c0-0000-4000-8000-00000000c0c0"}'

# Provision the app in each customer tenant: admin consent (or az ad sp create)
# creates its service principal there. Then grant that service principal the
# app roles or Azure roles the target resource needs.

# in tenant bbbbbbbb-0000-4000-8000-00000000000b: az login --tenant bbbbbbbb-0000-4000-8000-00000000000b
# or have an admin of bbbbbbbb-0000-4000-8000-00000000000b open: https://login.microsoftonline.com/bbbbbbbb-0000-4000-8000-00000000000b/adminconsent?client_id=c0c0c0c0-0000-4000-8000-00000000c0c0
az ad sp create --id c0c0c0c0-0000-4000-8000-00000000c0c0

# in tenant contoso.onmicrosoft.com: az login --tenant contoso.onmicrosoft.com
# or have an admin of contoso.onmicrosoft.com open: https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=c0c0c0c0-0000-4000-8000-00000000c0c0
az ad sp create --id c0c0c0c0-0000-4000-8000-00000000c0c0
