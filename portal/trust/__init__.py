"""Trust anchors on the server: signing keys, the service root, the trust log of certificates
and revocations. The server stores and serves signed statements it cannot make."""
