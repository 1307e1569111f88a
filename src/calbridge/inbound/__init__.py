"""Inbound iMIP: the answers clients send from their calendar apps, read over IMAP."""
