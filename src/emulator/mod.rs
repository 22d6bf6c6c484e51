//! The local emulator of the managed-identity endpoints and of a multi-tenant Entra authority.
