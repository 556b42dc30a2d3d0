"""Ciphertext storage shared by messages and media: content objects, versions, chunks, grants,
uploads in progress and the blob store's cleanup. It knows nothing of messages."""
