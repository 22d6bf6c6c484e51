#!/usr/bin/env bash
# ficx setup: federated identity credential, with the Azure CLI
# App registration in tenant A: object id 0b0b0b0b-0000-4000-8000-00000000000b
# Sign in to tenant A (the managed identity's and the app's tenant) first:
#   az login --tenant aaaaaaaa-0000-4000-8000-00000000000a
# The usgov cloud: run az cloud set --name AzureUSGovernment before signing in.
#
# WARNING [consent-needs-client-id] consent in the customer tenants needs the app's client id (appId), and only its object id is known; find it with: az ad app show --id 0b0b0b0b-0000-4000-8000-00000000000b --query appId -o tsv
# WARNING [fic-limit] an app holds at most 20 federated credentials and issuer + subject must be unique on it; list the existing ones with: az ad app federated-credential list --id 0b0b0b0b-0000-4000-8000-00000000000b

az ad app federated-credential create \
  --id 0b0b0b0b-0000-4000-8000-00000000000b \
  --parameters '{"name":"ficx-gov-worker","issuer":"https://login.microsoftonline.us/aaaaaaaa-0000-4000-8000-00000000000a/v2.0","subject":"5f5f5f5f-0000-4000-8000-000000000005","audiences":["api://AzureADTokenExchangeUSGov"],"description":"Trust gov-worker as a credential of 0b0b0b0b-0000-4000-8000-00000000000b"}'

# Provision the app in each customer tenant: admin consent (or az ad sp create)
# creates its service principal there. Then grant that service principal the
# app roles or Azure roles the target resource needs.

# in tenant bbbbbbbb-0000-4000-8000-00000000000b: az login --tenant bbbbbbbb-0000-4000-8000-00000000000b
# az ad sp create --id <appId>   (the app's client id was not given: az ad app show --id 0b0b0b0b-0000-4000-8000-00000000000b --query appId -o tsv)
