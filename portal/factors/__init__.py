"""The second factor: authenticator apps (TOTP), passkeys (WebAuthn) and backup codes."""
