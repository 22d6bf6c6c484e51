#!/usr/bin/env bash
# ficx setup: federated identity credential, with the Azure CLI
# App registration in tenant A: client id c0c0c0c0-0000-4000-8000-00000000c0c0, object id 0b0b0b0b-0000-4000-8000-00000000000b
# Sign in to tenant A (the managed identity's and the app's tenant) first:
#   az login --tenant aaaaaaaa-0000-4000-8000-00000000000a
# The china cloud: run az cloud set --name AzureChinaCloud before signing in.
#
# WARNING [fic-limit] an app holds at most 20 federated credentials and issuer + subject must be unique on it; list the existing ones with: az ad app federated-credential list --id 0b0b0b0b-0000-4000-8000-00000000000b

az ad app federated-credential create \
  --id 0b0b0b0b-0000-4000-8000-00000000000b \
  --parameters '{"name":"ficx-5f5f5f5f","issuer":"https://login.partner.microsoftonline.cn/aaaaaaaa-0000-4000-8000-00000000000a/v2.0","subject":"5f5f5f5f-0000-4000-8000-000000000005","audiences":["api://AzureADTokenExchangeChina"],"description":"Trust 5f5f5f5f-0000-4000-8000-000000000005 as a credential of c0c0c0c0-0000-4000-8000-00000000c0c0"}'

# Provision the app in each customer tenant: admin consent (or az ad sp create)
# creates its service principal there. Then grant that service principal the
# app roles or Azure roles the target resource needs.

# in tenant contoso.onmicrosoft.com: az login --tenant contoso.onmicrosoft.com
# or have an admin of contoso.onmicrosoft.com open: https://login.partner.microsoftonline.cn/contoso.onmicrosoft.com/adminconsent?client_id=c0c0c0c0-0000-4000-8000-00000000c0c0
az ad sp create --id c0c0c0c0-0000-4000-8000-00000000c0c0
